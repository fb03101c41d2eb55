/// How a Pusher event's `data` (always a string on the Pusher protocol, usually JSON text) maps onto a
/// Switchboard event's `data` (any JSON value) and back, so that one event reaches Pusher clients and
/// native clients alike:
///
/// - a string that is JSON text is stored as the value it encodes (`"{\"id\":1}"` becomes `{"id":1}`:
///   native clients and webhooks see the object), any other string as that string;
/// - going to a Pusher client, a stored string is sent as it is and any other value as its JSON text.
///
/// pusher-js parses `data` as JSON when it can, so a Pusher client sees the value it would have seen
/// from Pusher; an event published natively (`{"data":{"id":1}}`) reaches it as `"{\"id\":1}"`.
public enum PusherData {
    /// The stored JSON text for a Pusher event's `data`.
    public static func stored(from data: String) -> String {
        guard let value = try? JSONParser.parse(Array(data.utf8)) else { return JSONValue.string(data).jsonText }
        return value.jsonText
    }

    /// The `data` string a Pusher client is sent for stored JSON text.
    public static func delivered(from storedJSON: String) -> String {
        guard let value = try? JSONParser.parse(Array(storedJSON.utf8)) else { return storedJSON }
        if case .string(let text) = value { return text }
        return storedJSON
    }
}

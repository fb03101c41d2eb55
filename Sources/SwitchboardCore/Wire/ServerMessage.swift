/// Builds the JSON text of every message the server sends over WebSocket.
public enum ServerMessage {
    /// `{"op":"welcome","client":…,"heartbeat":…,"user":…}`.
    public static func welcome(client: String, heartbeatSeconds: Int, user: String?) -> String {
        "{\"op\":\"welcome\",\"client\":\(JSONWriter.quoted(client)),\"heartbeat\":\(heartbeatSeconds),\"user\":\(optional(user))}"
    }

    /// `{"op":"authed","user":…,"expires":…}`.
    public static func authed(user: String?, expires: Timestamp?, ref: JSONValue?) -> String {
        reply("{\"op\":\"authed\",\"user\":\(optional(user)),\"expires\":\(optional(expires?.description))", ref)
    }

    /// `{"op":"subscribed","channel":…,"offset":<head>,"recovered":…,"truncated":…}`.
    public static func subscribed(
        channel: ChannelName,
        head: Int64,
        recovered: Bool,
        truncated: Bool,
        ref: JSONValue?
    ) -> String {
        reply(
            "{\"op\":\"subscribed\",\"channel\":\"\(channel)\",\"offset\":\(head),\"recovered\":\(recovered),\"truncated\":\(truncated)",
            ref
        )
    }

    /// `{"op":"unsubscribed","channel":…}`.
    public static func unsubscribed(channel: ChannelName, ref: JSONValue?) -> String {
        reply("{\"op\":\"unsubscribed\",\"channel\":\"\(channel)\"", ref)
    }

    /// `{"op":"published","id":…,"offset":…}`.
    public static func published(id: EventID, channel: ChannelName, offset: Int64, ref: JSONValue?) -> String {
        reply(
            "{\"op\":\"published\",\"id\":\(JSONWriter.quoted(id.rawValue)),\"channel\":\"\(channel)\",\"offset\":\(offset)",
            ref
        )
    }

    /// `{"op":"history","channel":…,"events":[…],"next":…,"truncated":…}`.
    public static func history(page: HistoryPage, ref: JSONValue?) -> String {
        var out = "{\"op\":\"history\","
        page.appendFields(into: &out)
        return reply(out, ref)
    }

    /// `{"op":"pong"}`.
    public static func pong(ref: JSONValue?) -> String {
        reply("{\"op\":\"pong\"", ref)
    }

    /// `{"op":"error","ref":…,"code":…,"message":…}`.
    public static func error(_ error: SwitchboardError, ref: JSONValue?) -> String {
        reply(
            "{\"op\":\"error\",\"code\":\"\(error.code)\",\"message\":\(JSONWriter.quoted(error.detail))",
            ref
        )
    }

    /// How an `event` message starts, before the event's fields.
    public static let eventPrefix = "{\"op\":\"event\","

    /// `{"op":"event",…the event's fields…}`.
    public static func event(_ event: Event) -> String {
        var out = eventPrefix
        event.appendFields(into: &out)
        out += "}"
        return out
    }

    /// `{"op":"listening","endpoint":…}`.
    public static func listening(endpoint: String, ref: JSONValue?) -> String {
        reply("{\"op\":\"listening\",\"endpoint\":\(JSONWriter.quoted(endpoint))", ref)
    }

    /// `{"op":"webhook","delivery":…,"headers":{…},"body":"<the exact body>"}`: a signed delivery to
    /// forward (`switchboard listen`).
    public static func webhook(delivery: String, headers: [(String, String)], body: String) -> String {
        JSONValue.object([
            ("op", .string("webhook")), ("delivery", .string(delivery)),
            ("headers", .object(headers.map { ($0.0, .string($0.1)) })), ("body", .string(body)),
        ]).jsonText
    }

    private static func optional(_ text: String?) -> String {
        text.map(JSONWriter.quoted) ?? "null"
    }

    private static func reply(_ open: String, _ ref: JSONValue?) -> String {
        guard let ref else { return open + "}" }
        return open + ",\"ref\":" + ref.jsonText + "}"
    }
}

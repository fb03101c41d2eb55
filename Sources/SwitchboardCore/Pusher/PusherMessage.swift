/// The server's messages of the Pusher protocol (version 7), as text frames. Their `data` is a JSON
/// string (JSON text inside a string), as pusher-js and the other client libraries expect.
public enum PusherMessage {
    /// `pusher:connection_established`, the first message: the socket id and how long the client may
    /// stay silent before it pings.
    public static func connectionEstablished(socketID: String, activityTimeoutSeconds: Int) -> String {
        let data = "{\"socket_id\":\(JSONWriter.quoted(socketID)),\"activity_timeout\":\(activityTimeoutSeconds)}"
        return "{\"event\":\"pusher:connection_established\",\"data\":\(JSONWriter.quoted(data))}"
    }

    /// `pusher:pong`, the answer to `pusher:ping`.
    public static let pong = "{\"event\":\"pusher:pong\",\"data\":\"{}\"}"

    /// `pusher:error` with a message and a Pusher error code (nil: not fatal).
    public static func error(_ message: String, code: Int?) -> String {
        "{\"event\":\"pusher:error\",\"data\":{\"message\":\(JSONWriter.quoted(message)),\"code\":\(code.map(String.init) ?? "null")}}"
    }

    /// `pusher_internal:subscription_succeeded` for a channel that is not a presence channel.
    public static func subscriptionSucceeded(channel: ChannelName) -> String {
        "{\"event\":\"pusher_internal:subscription_succeeded\",\"channel\":\(JSONWriter.quoted(channel.rawValue)),\"data\":\"{}\"}"
    }

    /// `pusher_internal:subscription_succeeded` for a presence channel: who is there, by user id.
    public static func presenceSucceeded(channel: ChannelName, members: [(id: String, info: JSONValue?)]) -> String {
        let ids = members.map { JSONWriter.quoted($0.id) }.joined(separator: ",")
        let hash = members.map { "\(JSONWriter.quoted($0.id)):\($0.info?.jsonText ?? "null")" }.joined(separator: ",")
        let data = "{\"presence\":{\"ids\":[\(ids)],\"hash\":{\(hash)},\"count\":\(members.count)}}"
        return
            "{\"event\":\"pusher_internal:subscription_succeeded\",\"channel\":\(JSONWriter.quoted(channel.rawValue)),\"data\":\(JSONWriter.quoted(data))}"
    }

    /// `pusher:signin_success`: the connection is signed in as the user of `userData`.
    public static func signinSuccess(userData: String) -> String {
        let data = "{\"user_data\":\(JSONWriter.quoted(userData))}"
        return "{\"event\":\"pusher:signin_success\",\"data\":\(JSONWriter.quoted(data))}"
    }

    /// `pusher:cache_miss`: a cache channel has no event to start with.
    public static func cacheMiss(channel: ChannelName) -> String {
        "{\"event\":\"pusher:cache_miss\",\"channel\":\(JSONWriter.quoted(channel.rawValue))}"
    }

    /// `pusher_internal:member_added`: a user's first connection joined the presence channel.
    public static func memberAdded(channel: String, id: String, info: JSONValue?) -> String {
        let data = "{\"user_id\":\(JSONWriter.quoted(id)),\"user_info\":\(info?.jsonText ?? "null")}"
        return
            "{\"event\":\"pusher_internal:member_added\",\"channel\":\(JSONWriter.quoted(channel)),\"data\":\(JSONWriter.quoted(data))}"
    }

    /// `pusher_internal:member_removed`: a user's last connection left the presence channel.
    public static func memberRemoved(channel: String, id: String) -> String {
        let data = "{\"user_id\":\(JSONWriter.quoted(id))}"
        return
            "{\"event\":\"pusher_internal:member_removed\",\"channel\":\(JSONWriter.quoted(channel)),\"data\":\(JSONWriter.quoted(data))}"
    }

    /// The Pusher message for a Switchboard presence frame (`{"op":"join"|"leave","channel",
    /// "member":{"user","info"}}`); nil for any other frame.
    public static func presenceChange(fromSwitchboardFrame frame: String) -> String? {
        guard let parsed = try? JSONParser.parse(frame), let op = parsed["op"]?.stringValue,
            let channel = parsed["channel"]?.stringValue, let user = parsed["member"]?["user"]?.stringValue
        else { return nil }
        switch op {
        case "join": return memberAdded(channel: channel, id: user, info: parsed["member"]?["info"])
        case "leave": return memberRemoved(channel: channel, id: user)
        default: return nil
        }
    }

    /// `pusher:subscription_error`: the subscription to `channel` was refused (`status` as an HTTP
    /// status: 401 for a bad signature, 403 for a channel this connection may not have).
    public static func subscriptionError(channel: String, message: String, status: Int) -> String {
        let data = "{\"type\":\"AuthError\",\"error\":\(JSONWriter.quoted(message)),\"status\":\(status)}"
        return
            "{\"event\":\"pusher:subscription_error\",\"channel\":\(JSONWriter.quoted(channel)),\"data\":\(JSONWriter.quoted(data))}"
    }

    /// An event as a Pusher client receives it: its type as the event name, its data as a string
    /// (`PusherData`), and its offset, which a reconnecting client may hand back to resume after it.
    public static func event(_ event: Event) -> String {
        let user = PusherWebhook.userID(inEventID: event.id.rawValue).map { ",\"user_id\":\(JSONWriter.quoted($0))" }
        return
            "{\"event\":\(JSONWriter.quoted(event.type.rawValue)),\"channel\":\(JSONWriter.quoted(event.channel.rawValue)),"
            + "\"data\":\(JSONWriter.quoted(PusherData.delivered(from: event.data))),\"offset\":\(event.offset)\(user ?? "")}"
    }
}

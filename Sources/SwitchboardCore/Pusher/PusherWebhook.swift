/// Pusher's webhooks made from Switchboard's log: which events of the log are Pusher webhook events,
/// and the signed body a Pusher receiver (`validate_webhook` in Pusher's server libraries) accepts.
///
/// | the log holds | Pusher's webhook event |
/// | --- | --- |
/// | `channel.occupied` / `channel.vacated` on `$occupancy:<c>` | `channel_occupied` / `channel_vacated` |
/// | `presence.join` / `presence.leave` on `$presence:<c>` | `member_added` / `member_removed` |
/// | a `client-…` event on `<c>` | `client_event` (with `socket_id` when a Pusher connection sent it, and `user_id` on a presence channel) |
///
/// The body is `{"time_ms":<signing time>,"events":[…]}`; `X-Pusher-Key` is the app's key and
/// `X-Pusher-Signature` the hex HMAC-SHA256 of the body with the app's secret.
public enum PusherWebhook {
    /// The names of Pusher's webhook events.
    public static let eventNames = [
        "channel_occupied", "channel_vacated", "member_added", "member_removed", "client_event",
    ]

    /// The type of the event journaled when a channel gains its first subscriber on a node.
    public static let occupiedType = EventType(trusted: "channel.occupied")
    /// The type of the event journaled when a channel loses its last subscriber on a node.
    public static let vacatedType = EventType(trusted: "channel.vacated")

    /// The prefix of the ids of client events Pusher connections publish: the sender's socket id
    /// follows, then `_` and a random part of `randomLength` characters, then, on a presence channel,
    /// `_` and the sender's user id in base64url (Pusher gives a presence channel's client events the
    /// sender's `user_id`).
    public static let clientEventIDPrefix = EventID.clientPrefix + "pusherc_"
    private static let randomLength = 22

    /// A fresh id for a client event sent by the Pusher connection `socketID`, as `user` on a presence
    /// channel.
    public static func clientEventID(
        socketID: String,
        user: String? = nil,
        using generator: inout some RandomNumberGenerator
    ) -> EventID {
        var id = clientEventIDPrefix + socketID + "_" + RandomToken.base62(count: randomLength, using: &generator)
        if let user { id += "_" + Base64URL.encode(Array(user.utf8)) }
        return EventID(stored: id)
    }

    /// The socket id a client event's id carries, if a Pusher connection sent it.
    public static func socketID(inEventID id: String) -> String? {
        parts(of: id)?.socketID
    }

    /// The sender's user id a client event's id carries, if a Pusher connection sent it on a presence
    /// channel.
    public static func userID(inEventID id: String) -> String? {
        parts(of: id)?.user
    }

    private static func parts(of id: String) -> (socketID: String, user: String?)? {
        guard id.hasPrefix(clientEventIDPrefix) else { return nil }
        let rest = id.utf8.dropFirst(clientEventIDPrefix.utf8.count)
        guard let end = rest.firstIndex(of: UInt8(ascii: "_")) else { return nil }
        let socketID = String(decoding: rest[..<end], as: UTF8.self)
        let afterRandom = rest[rest.index(after: end)...].dropFirst(randomLength)
        guard afterRandom.first == UInt8(ascii: "_"), let user = Base64URL.decode(afterRandom.dropFirst()) else {
            return (socketID, nil)
        }
        return (socketID, String(decoding: user, as: UTF8.self))
    }

    /// The Pusher webhook event `event` is (a JSON object's text), or nil when it is none.
    public static func event(for event: Event) -> String? {
        let type = event.type.rawValue
        if let channel = event.channel.occupancySubject {
            switch event.type {
            case occupiedType: return object("channel_occupied", channel: channel, [])
            case vacatedType: return object("channel_vacated", channel: channel, [])
            default: return nil
            }
        }
        if let channel = event.channel.presenceSubject {
            let name: String
            switch type {
            case "presence.join": name = "member_added"
            case "presence.leave": name = "member_removed"
            default: return nil
            }
            guard let member = try? JSONParser.parse(Array(event.data.utf8)), case .string(let user)? = member["user"]
            else { return nil }
            return object(name, channel: channel, [("user_id", .string(user))])
        }
        guard !event.channel.isServerWritten, type.hasPrefix("client-") else { return nil }
        var members: [(String, JSONValue)] = [
            ("event", .string(type)), ("data", .string(PusherData.delivered(from: event.data))),
        ]
        if let (socketID, user) = parts(of: event.id.rawValue) {
            members.append(("socket_id", .string(socketID)))
            if let user { members.append(("user_id", .string(user))) }
        }
        return object("client_event", channel: event.channel, members)
    }

    /// The body of a webhook carrying `events` (JSON objects' texts), signed at `time`.
    public static func body(events: [String], at time: Timestamp) -> [UInt8] {
        Array("{\"time_ms\":\(time.millisecondsSinceEpoch),\"events\":[\(events.joined(separator: ","))]}".utf8)
    }

    /// The request headers a Pusher receiver checks.
    public static func headers(body: [UInt8], key: String, secret: [UInt8]) -> [(String, String)] {
        [("x-pusher-key", key), ("x-pusher-signature", PusherSignature.webhook(body: body, secret: secret))]
    }

    private static func object(_ name: String, channel: ChannelName, _ more: [(String, JSONValue)]) -> String {
        JSONValue.object([("name", .string(name)), ("channel", .string(channel.rawValue))] + more).jsonText
    }
}

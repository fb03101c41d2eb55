import SwitchboardCore
import Testing

/// Which of the log's events become Pusher webhook events, and the body and headers a Pusher receiver
/// checks.
@Suite("Pusher webhooks")
struct PusherWebhookTests {
    private static func event(_ channel: String, _ type: String, data: String = "{}", id: String = "evt_1") throws
        -> Event
    {
        Event(
            id: EventID(stored: id),
            channel: try ChannelName(channel),
            offset: 1,
            type: try EventType(type),
            time: Timestamp(millisecondsSinceEpoch: 1_700_000_000_000),
            data: data
        )
    }

    private static func object(_ text: String?) throws -> JSONValue {
        try JSONParser.parse(Array(try #require(text).utf8))
    }

    @Test("Occupancy journals become channel_occupied and channel_vacated of the channel they journal")
    func occupancy() throws {
        let occupied = try Self.object(
            PusherWebhook.event(for: try Self.event("$occupancy:private-room", "channel.occupied"))
        )
        #expect(occupied == .object([("name", .string("channel_occupied")), ("channel", .string("private-room"))]))
        let vacated = try Self.object(PusherWebhook.event(for: try Self.event("$occupancy:room", "channel.vacated")))
        #expect(vacated == .object([("name", .string("channel_vacated")), ("channel", .string("room"))]))
        #expect(PusherWebhook.event(for: try Self.event("$occupancy:room", "channel.other")) == nil)
    }

    @Test("Presence journals become member_added and member_removed with the member's user id")
    func members() throws {
        let member = #"{"client":"cl_1","user":"u-7","info":{"name":"Ada"}}"#
        let added = try Self.object(
            PusherWebhook.event(for: try Self.event("$presence:presence-room", "presence.join", data: member))
        )
        #expect(
            added
                == .object([
                    ("name", .string("member_added")), ("channel", .string("presence-room")),
                    ("user_id", .string("u-7")),
                ])
        )
        let removed = try Self.object(
            PusherWebhook.event(for: try Self.event("$presence:presence-room", "presence.leave", data: member))
        )
        #expect(removed["name"] == .string("member_removed"))
        #expect(PusherWebhook.event(for: try Self.event("$presence:room", "presence.join", data: "{}")) == nil)
    }

    @Test("A client- event becomes client_event with its data as Pusher's string and the sender's socket id")
    func clientEvent() throws {
        var generator = RandomBitsGenerator(randomBits: { 7 })
        let id = PusherWebhook.clientEventID(socketID: "123.456", using: &generator)
        #expect(PusherWebhook.socketID(inEventID: id.rawValue) == "123.456")
        let sent = try Self.object(
            PusherWebhook.event(
                for: try Self.event("private-room", "client-typing", data: #"{"on":true}"#, id: id.rawValue)
            )
        )
        #expect(
            sent
                == .object([
                    ("name", .string("client_event")), ("channel", .string("private-room")),
                    ("event", .string("client-typing")), ("data", .string(#"{"on":true}"#)),
                    ("socket_id", .string("123.456")),
                ])
        )
        // Published otherwise (HTTP, a native client): no socket id; a stored string is sent as it is.
        let native = try Self.object(PusherWebhook.event(for: try Self.event("room", "client-x", data: #""hi""#)))
        #expect(native["socket_id"] == nil)
        #expect(native["data"] == .string("hi"))
    }

    @Test("On a presence channel a client event's id carries its sender's user id, whatever its characters")
    func clientEventUser() throws {
        var generator = RandomBitsGenerator.system
        for user in ["ada", "42", "a_b-c", "Grüße 世界 🚀", String(repeating: "u", count: 128), "__", "_"] {
            let id = PusherWebhook.clientEventID(socketID: "1.2", user: user, using: &generator)
            #expect(PusherWebhook.userID(inEventID: id.rawValue) == user, "\(id.rawValue)")
            #expect(PusherWebhook.socketID(inEventID: id.rawValue) == "1.2")
            #expect(id.rawValue.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }, "an id stays printable ASCII")
            let event = try Self.event("presence-room", "client-typing", id: id.rawValue)
            #expect(try Self.object(PusherWebhook.event(for: event))["user_id"] == .string(user))
            #expect(try JSONValue.parsing(PusherMessage.event(event))["user_id"] == .string(user))
        }
        let plain = PusherWebhook.clientEventID(socketID: "1.2", using: &generator)
        #expect(PusherWebhook.userID(inEventID: plain.rawValue) == nil)
        #expect(
            try JSONValue.parsing(PusherMessage.event(try Self.event("private-room", "client-x", id: plain.rawValue)))[
                "user_id"
            ] == nil
        )
        #expect(PusherWebhook.userID(inEventID: "evu_pusherc_1.2_" + String(repeating: "a", count: 22) + "_%%") == nil)
    }

    @Test("Other events are none of Pusher's webhooks")
    func others() throws {
        #expect(PusherWebhook.event(for: try Self.event("room", "message")) == nil)
        #expect(PusherWebhook.event(for: try Self.event("room", "presence.join")) == nil)
        #expect(PusherWebhook.event(for: try Self.event("$system", "client-x")) == nil)
        #expect(PusherWebhook.socketID(inEventID: "evu_pusher_abc") == nil)
        #expect(PusherWebhook.socketID(inEventID: "evu_pusherc_nounderscore") == nil)
    }

    @Test("The body carries the signing time and the events; the signature is the hex HMAC of the body")
    func bodyAndHeaders() throws {
        let body = PusherWebhook.body(
            events: [#"{"name":"channel_occupied","channel":"a"}"#],
            at: Timestamp(millisecondsSinceEpoch: 1_700_000_000_123)
        )
        #expect(
            String(decoding: body, as: UTF8.self)
                == #"{"time_ms":1700000000123,"events":[{"name":"channel_occupied","channel":"a"}]}"#
        )
        let secret = Array("7ad3773142a6692b25b8".utf8)
        let headers = Dictionary(uniqueKeysWithValues: PusherWebhook.headers(body: body, key: "k", secret: secret))
        #expect(headers["x-pusher-key"] == "k")
        #expect(headers["x-pusher-signature"] == PusherSignature.webhook(body: body, secret: secret))
        #expect(headers["x-pusher-signature"]?.utf8.count == 64)
    }

    @Test("A Pusher signing key is stored as its app's id, never as a secret")
    func signingKey() throws {
        let key = WebhookSigningKey.pusher(app: "app-1")
        #expect(key.storedText == "pusherapp_app-1")
        #expect(try WebhookSigningKey(stored: key.storedText) == key)
        #expect(key.pusherApp == "app-1")
        #expect(key.schemeName == "pusher")
        #expect(key.publicKeyText == nil)
        #expect(throws: SwitchboardError.self) { try WebhookSigningKey(stored: "pusherapp_") }
    }
}

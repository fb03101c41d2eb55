import Testing

@testable import SwitchboardCore

@Suite("WebSocket server messages")
struct ServerMessageTests {
    private let time = Timestamp(millisecondsSinceEpoch: 1_795_389_601_123)

    private func event(offset: Int64) throws -> Event {
        Event(
            id: EventID(stored: "evt_\(offset)"),
            channel: try ChannelName("orders"),
            offset: offset,
            type: try EventType("order.created"),
            time: time,
            data: #"{"n":\#(offset)}"#
        )
    }

    @Test("welcome names the client, the heartbeat and the user, null when anonymous")
    func welcome() throws {
        let anonymous = try JSONValue.parsing(ServerMessage.welcome(client: "cl_1", heartbeatSeconds: 25, user: nil))
        #expect(
            anonymous
                == .object([
                    ("op", .string("welcome")), ("client", .string("cl_1")), ("heartbeat", .int(25)), ("user", .null),
                ])
        )
        let named = try JSONValue.parsing(ServerMessage.welcome(client: "cl_1", heartbeatSeconds: 25, user: "u\"1"))
        #expect(named["user"] == .string("u\"1"))
    }

    @Test("authed carries the user and the expiry as an RFC 3339 time")
    func authed() throws {
        let message = try JSONValue.parsing(ServerMessage.authed(user: "alice", expires: time, ref: .string("a")))
        #expect(message["op"] == .string("authed"))
        #expect(message["user"] == .string("alice"))
        #expect(message["expires"] == .string("2026-11-22T23:20:01.123Z"))
        #expect(message["ref"] == .string("a"))
        let open = try JSONValue.parsing(ServerMessage.authed(user: nil, expires: nil, ref: nil))
        #expect(open["user"] == .null)
        #expect(open["expires"] == .null)
    }

    @Test("subscribed reports the head offset and whether the history was recovered or truncated")
    func subscribed() throws {
        let message = try JSONValue.parsing(
            ServerMessage.subscribed(
                channel: try ChannelName("orders"),
                head: 42,
                recovered: false,
                truncated: true,
                ref: .int(3)
            )
        )
        #expect(
            message
                == .object([
                    ("op", .string("subscribed")), ("channel", .string("orders")), ("offset", .int(42)),
                    ("recovered", .bool(false)), ("truncated", .bool(true)), ("ref", .int(3)),
                ])
        )
    }

    @Test("unsubscribed names the channel")
    func unsubscribed() throws {
        let message = try JSONValue.parsing(ServerMessage.unsubscribed(channel: try ChannelName("chat:1"), ref: nil))
        #expect(message == .object([("op", .string("unsubscribed")), ("channel", .string("chat:1"))]))
    }

    @Test("published carries the event id and offset")
    func published() throws {
        let message = try JSONValue.parsing(
            ServerMessage.published(
                id: EventID(stored: "evt_9"),
                channel: try ChannelName("chat:1"),
                offset: 7,
                ref: .string("p1")
            )
        )
        #expect(message["op"] == .string("published"))
        #expect(message["id"] == .string("evt_9"))
        #expect(message["offset"] == .int(7))
        #expect(message["ref"] == .string("p1"))
    }

    @Test("history carries the channel, the events in canonical form, next and truncated")
    func history() throws {
        let page = HistoryPage(
            channel: try ChannelName("orders"),
            events: [try event(offset: 1), try event(offset: 2)],
            next: 2,
            earliest: 1,
            isTruncated: false
        )
        let message = try JSONValue.parsing(ServerMessage.history(page: page, ref: .int(1)))
        #expect(message["op"] == .string("history"))
        #expect(message["channel"] == .string("orders"))
        #expect(message["next"] == .int(2))
        #expect(message["truncated"] == .bool(false))
        #expect(message["ref"] == .int(1))
        #expect(
            message["events"]
                == .array([
                    try JSONValue.parsing(try event(offset: 1).canonicalJSON),
                    try JSONValue.parsing(try event(offset: 2).canonicalJSON),
                ])
        )
    }

    @Test("pong answers ping, echoing the ref when there is one")
    func pong() throws {
        #expect(ServerMessage.pong(ref: nil) == #"{"op":"pong"}"#)
        #expect(
            try JSONValue.parsing(ServerMessage.pong(ref: .string("x")))
                == .object([("op", .string("pong")), ("ref", .string("x"))])
        )
    }

    @Test(
        "A ref is echoed with its JSON type intact",
        arguments: [JSONValue.string("r\"1"), .int(-4), .double(2.5), .bool(false), .null]
    )
    func echoesRef(ref: JSONValue) throws {
        #expect(try JSONValue.parsing(ServerMessage.pong(ref: ref))["ref"] == ref)
    }

    @Test("error carries the code, a message and the ref")
    func error() throws {
        let failure = SwitchboardError(.unknownOp, #"unknown op "teleport""#)
        let message = try JSONValue.parsing(ServerMessage.error(failure, ref: .string("r9")))
        #expect(message["op"] == .string("error"))
        #expect(message["code"] == .string("unknown_op"))
        #expect(message["message"] == .string(#"unknown op "teleport""#))
        #expect(message["ref"] == .string("r9"))
    }

    @Test("A refused frame's rejection renders as an error reply with the client's ref")
    func rejectionRendersAsError() throws {
        let rejection = #expect(throws: ClientCommand.Rejection.self) {
            try ClientCommand.decode(Array(#"{"op":"nope","ref":12}"#.utf8), limits: Limits())
        }
        let unwrapped = try #require(rejection)
        let message = try JSONValue.parsing(ServerMessage.error(unwrapped.error, ref: unwrapped.ref))
        #expect(message["code"] == .string("unknown_op"))
        #expect(message["ref"] == .int(12))
    }

    @Test("event carries op event followed by the event's canonical fields")
    func event() throws {
        let message = try JSONValue.parsing(ServerMessage.event(try event(offset: 42)))
        #expect(message.memberNames == ["op", "id", "channel", "offset", "type", "time", "data"])
        #expect(message["op"] == .string("event"))
        #expect(message["offset"] == .int(42))
        #expect(message["data"] == .object([("n", .int(42))]))
    }
}

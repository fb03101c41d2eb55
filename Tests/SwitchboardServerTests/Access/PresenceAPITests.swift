import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// `GET /v1/channels/{channel}/presence` and the `presence` op against the same members: one entry per
/// connection, each user's connections visible, and the same read rule as history.
@Suite("Presence API")
struct PresenceAPITests {
    private static func configure(_ configuration: inout ServerConfiguration) {
        configuration.clientTokens = ClientTokenSettings(secret: TestTokens.secret)
        configuration.engine.namespaces.named["room"] = NamespacePolicy(hasPresence: true)
    }

    private static func join(_ server: TestServer, user: String, channel: String) async throws -> TestWebSocket {
        let token = TestTokens.token(user: user, channels: #"["room:*"]"#)
        let socket = try await TestWebSocket.connect(port: server.port, path: "/v1/ws?token=\(token)")
        try #require(try await socket.nextJSON()["op"] == .string("welcome"))
        try await socket.send(#"{"op":"subscribe","channel":"\#(channel)"}"#)
        try #require(try await socket.nextJSON()["op"] == .string("subscribed"))
        return socket
    }

    private static func users(_ response: TestResponse) throws -> [String] {
        try (response.json["members"]?.arrayValue ?? []).compactMap { $0["user"]?.stringValue }.sorted()
    }

    @Test("The HTTP list shows the members; a leaving member is gone from it")
    func membersOverHTTP() async throws {
        try await TestServer.with(configure: Self.configure) { server in
            let admin = TestHTTP(server)
            let empty = try await admin.request("GET", "/v1/channels/room:1/presence")
            #expect(empty.status == 200, "body: \(empty.body)")
            #expect(try Self.users(empty).isEmpty)

            let alice = try await Self.join(server, user: "alice", channel: "room:1")
            let bob = try await Self.join(server, user: "bob", channel: "room:1")
            let listed = try await admin.request("GET", "/v1/channels/room:1/presence")
            #expect(try listed.json["channel"] == .string("room:1"))
            #expect(try Self.users(listed) == ["alice", "bob"])
            // A percent-encoded path names the same channel, as for history and publishing.
            #expect(
                try Self.users(try await admin.request("GET", "/v1/channels/room%3A1/presence")) == ["alice", "bob"]
            )

            // A client token that may read the channel sees the same list.
            let reader = TestHTTP(
                baseURL: server.baseURL,
                key: TestTokens.token(user: "carol", channels: #"["room:*"]"#)
            )
            #expect(
                try Self.users(try await reader.request("GET", "/v1/channels/room:1/presence")) == ["alice", "bob"]
            )

            try await bob.send(#"{"op":"unsubscribe","channel":"room:1"}"#)
            _ = await bob.nextText()
            #expect(try Self.users(try await admin.request("GET", "/v1/channels/room:1/presence")) == ["alice"])
            for socket in [alice, bob] { await socket.drop() }
        }
    }

    @Test("An anonymous subscriber that authenticates afterwards becomes a member")
    func joinAfterAuth() async throws {
        try await TestServer.with(configure: {
            Self.configure(&$0)
            $0.engine.namespaces.named["lobby"] = NamespacePolicy(isPublic: true, hasPresence: true)
        }) { server in
            let socket = try await TestWebSocket.connect(port: server.port)
            _ = try await socket.nextJSON()
            try await socket.send(#"{"op":"subscribe","channel":"lobby:1"}"#)
            #expect(try await socket.nextJSON()["op"] == .string("subscribed"))
            let admin = TestHTTP(server)
            #expect(try Self.users(try await admin.request("GET", "/v1/channels/lobby:1/presence")).isEmpty)
            let token = TestTokens.token(user: "dana", channels: #"["lobby:*"]"#)
            try await socket.send(#"{"op":"auth","token":"\#(token)"}"#)
            #expect(try await socket.nextJSON()["op"] == .string("authed"))
            #expect(try Self.users(try await admin.request("GET", "/v1/channels/lobby:1/presence")) == ["dana"])
            await socket.drop()
        }
    }

    @Test(
        "Presence refusals: a reader without the channel is 403, no credential 401, a namespace without presence 400, a bad name invalid_channel"
    )
    func refusals() async throws {
        try await TestServer.with(configure: Self.configure) { server in
            let outsider = TestHTTP(
                baseURL: server.baseURL,
                key: TestTokens.token(user: "eve", channels: #"["chat:*"]"#)
            )
            try await outsider.request("GET", "/v1/channels/room:1/presence").expectProblem("forbidden")
            try await TestHTTP.anonymous(server).request("GET", "/v1/channels/room:1/presence")
                .expectProblem("unauthorized")
            try await TestHTTP(server).request("GET", "/v1/channels/orders/presence").expectProblem("not_found")
            try await TestHTTP(server).request("GET", "/v1/channels/bad%20name/presence").expectProblem(
                "invalid_channel"
            )
        }
    }

    @Test("Churning subscriptions on a presence channel is rate-limited, so it cannot flood the presence journal")
    func presenceChurnIsLimited() async throws {
        let clock = ManualClock()
        try await TestServer.with(
            configure: {
                Self.configure(&$0)
                $0.engine.limits.presenceJoinRate = 2
            },
            ambient: clock.ambient
        ) { server in
            let token = TestTokens.token(user: "alice", channels: #"["room:*"]"#)
            let socket = try await TestWebSocket.connect(port: server.port, path: "/v1/ws?token=\(token)")
            _ = try await socket.nextJSON()
            /// The reply to the command with `ref`, skipping presence frames.
            func reply(_ command: String, ref: Int) async throws -> JSONValue {
                try await socket.send(command)
                while true {
                    let message = try await socket.nextJSON()
                    if message["ref"]?.intValue == Int64(ref) { return message }
                }
            }
            var ops: [String] = []
            for ref in stride(from: 1, through: 10, by: 2) {
                let subscribed = try await reply(#"{"op":"subscribe","channel":"room:1","ref":\#(ref)}"#, ref: ref)
                ops.append(subscribed["op"]?.stringValue ?? "?")
                if subscribed["op"] == .string("subscribed") {
                    _ = try await reply(#"{"op":"unsubscribe","channel":"room:1","ref":\#(ref + 1)}"#, ref: ref + 1)
                } else {
                    #expect(subscribed["code"] == .string("rate_limited"))
                }
            }
            // The burst is twice the rate: four joins, then refusals while time stands still.
            #expect(ops == ["subscribed", "subscribed", "subscribed", "subscribed", "error"])
            await clock.advance(by: .seconds(1))
            let again = try await reply(#"{"op":"subscribe","channel":"room:1","ref":99}"#, ref: 99)
            #expect(again["op"] == .string("subscribed"))
            await socket.drop()
        }
    }
}

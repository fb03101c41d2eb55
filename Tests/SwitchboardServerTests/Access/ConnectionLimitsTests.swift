import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// The per-connection limits over real sockets: publish rate, command rate, subscriptions, and
/// connections per user and per address. Each refusal has its documented code, and nothing it refused
/// is stored or delivered.
@Suite("Connection limits")
struct ConnectionLimitsTests {
    private static func configure(_ configuration: inout ServerConfiguration) {
        configuration.clientTokens = ClientTokenSettings(secret: TestTokens.secret)
        configuration.engine.namespaces.named["chat"] = NamespacePolicy(allowsClientPublish: true)
    }

    /// Connects with `user`'s token and reads the welcome.
    private static func connect(_ server: TestServer, user: String, publish: String = "[]") async throws
        -> TestWebSocket
    {
        let token = TestTokens.token(user: user, publish: publish)
        let socket = try await TestWebSocket.connect(port: server.port, path: "/v1/ws?token=\(token)")
        let welcome = try await socket.nextJSON()
        try #require(welcome["op"] == .string("welcome"), "got \(welcome)")
        return socket
    }

    @Test("A connection publishing past its rate gets rate_limited errors; only the acknowledged events are stored")
    func connectionPublishRate() async throws {
        // Time stands still: exactly the burst (2) is admitted however slowly the frames arrive.
        let clock = ManualClock()
        try await TestServer.with(
            configure: {
                Self.configure(&$0)
                $0.engine.limits.connectionPublishRate = 2
            },
            ambient: clock.ambient
        ) { server in
            let socket = try await Self.connect(server, user: "alice", publish: #"["chat:*"]"#)
            for ref in 1...6 {
                try await socket.send(#"{"op":"publish","channel":"chat:1","type":"m","data":{},"ref":\#(ref)}"#)
            }
            var published = 0
            var limited = 0
            for _ in 1...6 {
                let reply = try await socket.nextJSON()
                switch reply["op"]?.stringValue {
                case "published": published += 1
                case "error":
                    #expect(reply["code"] == .string("rate_limited"), "got \(reply)")
                    limited += 1
                default: Issue.record("unexpected \(reply)")
                }
            }
            #expect(published == 2)
            #expect(limited == 4)
            #expect(try await TestHTTP(server).storedEvents("chat:1").count == 2)
            // The connection stays open, and publishes again once a token comes back.
            await clock.advance(by: .milliseconds(500))
            try await socket.send(#"{"op":"publish","channel":"chat:1","type":"m","data":{},"ref":7}"#)
            #expect(try await socket.nextJSON()["op"] == .string("published"))
            #expect(try await TestHTTP(server).storedEvents("chat:1").count == 3)
            await socket.drop()
        }
    }

    @Test("A connection sending frames past the command rate is closed with 4029, after exactly its burst")
    func commandRate() async throws {
        // Time stands still: no token comes back however slowly the frames arrive.
        let clock = ManualClock()
        try await TestServer.with(
            configure: {
                Self.configure(&$0)
                $0.engine.limits.connectionCommandRate = 5
            },
            ambient: clock.ambient
        ) { server in
            let socket = try await Self.connect(server, user: "alice", publish: #"["chat:*"]"#)
            for ref in 1...30 {
                try? await socket.send(#"{"op":"ping","ref":\#(ref)}"#)
            }
            var pongs = 0
            var code: UInt16?
            while code == nil, let message = await socket.next() {
                switch message {
                case .text: pongs += 1
                case .close(let closeCode): code = closeCode
                case .ping: continue
                }
            }
            #expect(code == 4029)
            #expect(pongs == 5)
            // A later, well-behaved connection is unaffected.
            let other = try await Self.connect(server, user: "alice")
            try await other.send(#"{"op":"ping","ref":1}"#)
            #expect(try await other.nextJSON()["op"] == .string("pong"))
            await other.drop()
            #expect(
                try await TestHTTP(server).metric(#"switchboard_refused_total{limit="connection_command_rate"}"#) == 1
            )
        }
    }

    @Test("A subscription past the per-connection maximum gets bad_request and receives nothing")
    func subscriptionsPerConnection() async throws {
        try await TestServer.with(configure: {
            Self.configure(&$0)
            $0.engine.limits.maximumSubscriptionsPerConnection = 2
        }) { server in
            let socket = try await Self.connect(server, user: "alice")
            for (ref, channel) in ["chat:1", "chat:2"].enumerated() {
                try await socket.send(#"{"op":"subscribe","channel":"\#(channel)","ref":\#(ref)}"#)
                #expect(try await socket.nextJSON()["op"] == .string("subscribed"))
            }
            try await socket.send(#"{"op":"subscribe","channel":"chat:3","ref":"third"}"#)
            let refused = try await socket.nextJSON()
            #expect(refused["op"] == .string("error"))
            #expect(refused["code"] == .string("bad_request"))
            #expect(refused["ref"] == .string("third"))
            try await TestHTTP(server).publish("chat:3")
            try await TestHTTP(server).publish("chat:2")
            let next = try await socket.nextJSON()
            #expect(next["channel"] == .string("chat:2"), "chat:3 must not be delivered: \(next)")
            // Unsubscribing frees a place.
            try await socket.send(#"{"op":"unsubscribe","channel":"chat:1"}"#)
            #expect(try await socket.nextJSON()["op"] == .string("unsubscribed"))
            try await socket.send(#"{"op":"subscribe","channel":"chat:3"}"#)
            #expect(try await socket.nextJSON()["op"] == .string("subscribed"))
            await socket.drop()
        }
    }

    @Test("A user past maxConnectionsPerUser is closed with 4029 on WebSocket and refused 429 on SSE")
    func connectionsPerUser() async throws {
        try await TestServer.with(configure: {
            Self.configure(&$0)
            $0.engine.limits.maximumConnectionsPerUser = 2
        }) { server in
            let first = try await Self.connect(server, user: "alice")
            let second = try await Self.connect(server, user: "alice")
            let token = TestTokens.token(user: "alice")
            let third = try await TestWebSocket.connect(port: server.port, path: "/v1/ws?token=\(token)")
            #expect(await third.closeCode() == 4029)
            let stream = try await TestSSE.connect(port: server.port, path: "/v1/sse?channel=chat:1&token=\(token)")
            #expect(stream.status == 429)
            #expect(await stream.errorBody().contains("rate_limited"))
            await stream.close()
            // Another user is not affected, and a place freed is a place taken.
            let bob = try await Self.connect(server, user: "bob")
            await first.drop()
            try await waitForCount(server, user: "alice", 1)
            let again = try await Self.connect(server, user: "alice")
            for socket in [second, bob, again] { await socket.drop() }
        }
    }

    @Test("An address past maxConnectionsPerAddress is closed with 4029 on WebSocket and refused 429 on SSE")
    func connectionsPerAddress() async throws {
        try await TestServer.with(configure: {
            Self.configure(&$0)
            $0.engine.limits.maximumConnectionsPerAddress = 2
        }) { server in
            let first = try await TestWebSocket.connect(port: server.port)
            let second = try await TestWebSocket.connect(port: server.port)
            for socket in [first, second] {
                #expect(try await socket.nextJSON()["op"] == .string("welcome"))
            }
            let third = try await TestWebSocket.connect(port: server.port)
            #expect(await third.closeCode() == 4029)
            let headers = ["Authorization": "Bearer \(server.adminKey)"]
            let stream = try await TestSSE.connect(port: server.port, path: "/v1/sse?channel=orders", headers: headers)
            #expect(stream.status == 429)
            await stream.close()
            // The HTTP API is not a real-time connection and stays open to the address.
            #expect(try await TestHTTP(server).publish("orders")["offset"]?.intValue == 1)
            for socket in [first, second] { await socket.drop() }
        }
    }

    /// Waits until the server counts `expected` connections for `user` (a dropped socket is noticed
    /// asynchronously).
    private func waitForCount(_ server: TestServer, user: String, _ expected: Int) async throws {
        for _ in 0..<200 {
            let response = try await TestHTTP(server).request("GET", "/v1/users/\(user)/connections")
            if try response.json["connections"]?.intValue == Int64(expected) { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        Issue.record("\(user) never had \(expected) connections")
    }
}

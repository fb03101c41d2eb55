import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// Publishing over WebSocket: only in namespaces with client publishing, only on channels the token's
/// `publish` claim covers. A refused publish gets `forbidden`, and nothing is stored or delivered.
@Suite("Client publishing")
struct ClientPublishTests {
    private static func configure(_ configuration: inout ServerConfiguration) {
        configuration.clientTokens = ClientTokenSettings(secret: TestTokens.secret)
        configuration.engine.namespaces.named["chat"] = NamespacePolicy(allowsClientPublish: true)
        configuration.engine.namespaces.named["news"] = NamespacePolicy(isPublic: true)
        configuration.engine.namespaces.named["lobby"] = NamespacePolicy(isPublic: true, allowsClientPublish: true)
    }

    private static func connect(_ server: TestServer, path: String) async throws -> TestWebSocket {
        let socket = try await TestWebSocket.connect(port: server.port, path: path)
        try #require(try await socket.nextJSON()["op"] == .string("welcome"))
        return socket
    }

    private static func publish(_ socket: TestWebSocket, _ channel: String, ref: String) async throws -> JSONValue {
        try await socket.send(#"{"op":"publish","channel":"\#(channel)","type":"m","data":{"x":1},"ref":"\#(ref)"}"#)
        return try await socket.nextJSON()
    }

    @Test("Refused publishes get forbidden and store nothing; a subscriber sees only the allowed one")
    func refusals() async throws {
        try await TestServer.with(configure: Self.configure) { server in
            let watcher = try await TestWebSocket.connect(
                port: server.port,
                headers: ["Authorization": "Bearer \(server.adminKey)"]
            )
            _ = await watcher.nextText()
            for channel in ["chat:1", "chat:2", "news:1", "lobby:1"] {
                try await watcher.send(#"{"op":"subscribe","channel":"\#(channel)"}"#)
                #expect(try await watcher.nextJSON()["op"] == .string("subscribed"))
            }

            let token = TestTokens.token(
                user: "alice",
                channels: #"["chat:*","news:*"]"#,
                publish: #"["chat:1","news:*"]"#
            )
            let alice = try await Self.connect(server, path: "/v1/ws?token=\(token)")
            // A channel the publish claim does not cover.
            let notCovered = try await Self.publish(alice, "chat:2", ref: "a")
            #expect(notCovered["code"] == .string("forbidden"), "got \(notCovered)")
            #expect(notCovered["ref"] == .string("a"))
            // A namespace without client publishing, though the claim covers it.
            let notAllowed = try await Self.publish(alice, "news:1", ref: "b")
            #expect(notAllowed["code"] == .string("forbidden"), "got \(notAllowed)")
            // Server-written channels never take client publishes.
            let reserved = try await Self.publish(alice, "$system", ref: "c")
            #expect(reserved["op"] == .string("error"), "got \(reserved)")
            // An anonymous client may publish only where the namespace is public and allows it.
            let anonymous = try await Self.connect(server, path: "/v1/ws")
            let anonymousRefused = try await Self.publish(anonymous, "news:1", ref: "d")
            #expect(anonymousRefused["code"] == .string("forbidden"), "got \(anonymousRefused)")
            let anonymousLobby = try await Self.publish(anonymous, "lobby:1", ref: "e")
            #expect(anonymousLobby["op"] == .string("published"), "got \(anonymousLobby)")

            let allowed = try await Self.publish(alice, "chat:1", ref: "f")
            #expect(allowed["op"] == .string("published"), "got \(allowed)")
            #expect(allowed["offset"]?.intValue == 1)

            // The watcher gets lobby:1 then chat:1 and nothing from the refused publishes.
            let first = try await watcher.nextJSON()
            let second = try await watcher.nextJSON()
            #expect(Set([first["channel"], second["channel"]]) == Set([.string("lobby:1"), .string("chat:1")]))
            try await watcher.send(#"{"op":"ping","ref":"end"}"#)
            #expect(try await watcher.nextJSON()["op"] == .string("pong"))

            let admin = TestHTTP(server)
            #expect(try await admin.storedEvents("chat:2").isEmpty)
            #expect(try await admin.storedEvents("news:1").isEmpty)
            #expect(try await admin.storedEvents("chat:1").count == 1)
            for socket in [watcher, alice, anonymous] { await socket.drop() }
        }
    }

    @Test("A client's id is a key in its user's own space: it cannot replay, refuse or replace a backend's key")
    func clientIDsCannotHijackBackendKeys() async throws {
        try await TestServer.with(configure: Self.configure) { server in
            let token = TestTokens.token(user: "alice", channels: #"["chat:*"]"#, publish: #"["chat:*"]"#)
            let alice = try await Self.connect(server, path: "/v1/ws?token=\(token)")
            let publish = #"{"op":"publish","channel":"chat:1","type":"m","data":{"by":"alice"},"id":"order-42"}"#
            try await alice.send(publish)
            let first = try await alice.nextJSON()
            #expect(first["op"] == .string("published"), "got \(first)")
            let eventID = try #require(first["id"]?.stringValue)
            #expect(eventID != "order-42" && eventID.hasPrefix("evu_"))
            // The same user repeating the id gets the original event back.
            try await alice.send(publish)
            let repeated = try await alice.nextJSON()
            #expect(repeated["id"] == first["id"] && repeated["offset"] == first["offset"], "got \(repeated)")

            // The backend's key of the same text, on the same channel and on another, is its own.
            let backend = TestHTTP(server)
            for channel in ["chat:1", "orders"] {
                let response = try await backend.request(
                    "POST",
                    "/v1/channels/\(channel)/events",
                    body: #"{"type":"order.created","data":{"by":"backend"}}"#,
                    headers: ["Idempotency-Key": "order-42"]
                )
                #expect(response.status == (channel == "chat:1" ? 201 : 409), "\(channel): \(response.body)")
                if channel == "chat:1" {
                    #expect(try response.json["id"] == .string("order-42"))
                    #expect(response.headers["idempotent-replayed"] == nil)
                }
            }
            // Another user's same id is a different event.
            let bobToken = TestTokens.token(user: "bob", channels: #"["chat:*"]"#, publish: #"["chat:*"]"#)
            let bob = try await Self.connect(server, path: "/v1/ws?token=\(bobToken)")
            try await bob.send(publish)
            let bobs = try await bob.nextJSON()
            #expect(bobs["op"] == .string("published") && bobs["id"] != first["id"], "got \(bobs)")
            // A client may not name a derived id itself, and neither may an API key.
            try await bob.send(#"{"op":"publish","channel":"chat:1","type":"m","data":1,"id":"\#(eventID)"}"#)
            let derived = try await bob.nextJSON()
            #expect(derived["code"] == .string("bad_request"), "got \(derived)")
            let claimed = try await backend.request(
                "POST",
                "/v1/channels/chat:1/events",
                body: #"{"type":"x","data":1,"id":"\#(eventID)"}"#
            )
            claimed.expectProblem("bad_request")
            // Anonymous clients cannot send an id.
            let anonymous = try await Self.connect(server, path: "/v1/ws")
            try await anonymous.send(#"{"op":"publish","channel":"lobby:1","type":"m","data":1,"id":"x","ref":1}"#)
            let refused = try await anonymous.nextJSON()
            #expect(refused["code"] == .string("bad_request"), "got \(refused)")

            let stored = try await backend.storedEvents("chat:1")
            #expect(stored.map { $0["data"]?["by"]?.stringValue } == ["alice", "backend", "alice"])
            for socket in [alice, bob, anonymous] { await socket.drop() }
        }
    }
}

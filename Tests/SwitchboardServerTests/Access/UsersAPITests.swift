import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// `/v1/users/{user}/connections`: an administrator counts a user's real-time connections and
/// disconnects them all (4003 on WebSocket, the end of the stream on SSE).
@Suite("Users API")
struct UsersAPITests {
    private static func configure(_ configuration: inout ServerConfiguration) {
        configuration.clientTokens = ClientTokenSettings(secret: TestTokens.secret)
    }

    private static func connect(_ server: TestServer, user: String) async throws -> TestWebSocket {
        let socket = try await TestWebSocket.connect(
            port: server.port,
            path: "/v1/ws?token=\(TestTokens.token(user: user))"
        )
        let welcome = try await socket.nextJSON()
        try #require(welcome["op"] == .string("welcome"), "got \(welcome)")
        return socket
    }

    @Test("Counting and disconnecting: alice's WebSockets get 4003, her SSE stream ends, bob stays connected")
    func countAndDisconnect() async throws {
        try await TestServer.with(configure: Self.configure) { server in
            let admin = TestHTTP(server)
            let aliceSockets = [
                try await Self.connect(server, user: "alice"), try await Self.connect(server, user: "alice"),
            ]
            let bob = try await Self.connect(server, user: "bob")
            let stream = try await TestSSE.connect(
                port: server.port,
                path: "/v1/sse?channel=chat:1&token=\(TestTokens.token(user: "alice"))"
            )
            #expect(stream.status == 200)

            let counted = try await admin.request("GET", "/v1/users/alice/connections")
            #expect(counted.status == 200)
            #expect(try counted.json["user"] == .string("alice"))
            #expect(try counted.json["connections"]?.intValue == 3)
            #expect(try await admin.request("GET", "/v1/users/nobody/connections").json["connections"]?.intValue == 0)

            let disconnected = try await admin.request("DELETE", "/v1/users/alice/connections")
            #expect(disconnected.status == 200)
            #expect(try disconnected.json["disconnected"]?.intValue == 3)
            for socket in aliceSockets { #expect(await socket.closeCode() == 4003) }
            var control: String?
            while let message = await stream.next() {
                if message.event == "switchboard" { control = message.data }
            }
            #expect(control?.contains(#""code":"forbidden""#) == true, "control: \(control ?? "none")")

            try await bob.send(#"{"op":"ping","ref":1}"#)
            #expect(try await bob.nextJSON()["op"] == .string("pong"))
            var remaining: Int64 = -1
            for _ in 0..<200 {
                remaining =
                    try await admin.request("GET", "/v1/users/alice/connections").json["connections"]?.intValue ?? -1
                if remaining == 0 { break }
                try await Task.sleep(for: .milliseconds(25))
            }
            #expect(remaining == 0)
            await bob.drop()
        }
    }

    @Test("Only an admin key may count or disconnect: none is 401, a publish key is 403, and nobody is disconnected")
    func adminOnly() async throws {
        try await TestServer.with(configure: Self.configure) { server in
            let publisher = TestHTTP(baseURL: server.baseURL, key: try await server.addAPIKey(scopes: ["publish:*"]))
            let again = try await Self.connect(server, user: "alice")
            for method in ["GET", "DELETE"] {
                try await TestHTTP.anonymous(server).request(method, "/v1/users/alice/connections")
                    .expectProblem("unauthorized")
                try await publisher.request(method, "/v1/users/alice/connections").expectProblem("forbidden")
            }
            let token = TestTokens.token(user: "alice")
            try await TestHTTP(baseURL: server.baseURL, key: token).request("DELETE", "/v1/users/alice/connections")
                .expectProblem("unauthorized")
            try await again.send(#"{"op":"ping","ref":1}"#)
            #expect(try await again.nextJSON()["op"] == .string("pong"))
            await again.drop()
        }
    }
}

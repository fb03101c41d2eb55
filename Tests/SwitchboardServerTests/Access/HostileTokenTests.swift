import SwitchboardCore
import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// Validly signed tokens with absurd numeric claims: each is a clean refusal on every transport, and
/// the server goes on serving. A far but real expiry is honoured, not trapped on.
@Suite("Hostile token claims")
struct HostileTokenTests {
    private static func configure(_ configuration: inout ServerConfiguration) {
        configuration.clientTokens = ClientTokenSettings(secret: TestTokens.secret)
    }

    private static func token(exp: String) -> String {
        TestTokens.hs256(payload: #"{"sub":"mallory","exp":\#(exp),"channels":["chat:*"]}"#)
    }

    @Test(
        "exp, nbf or iat past any real date closes a WebSocket with 4001 and answers SSE and long-poll with 401",
        arguments: ["9223372036854775807", "1e16", "1e300"]
    )
    func outOfRangeClaims(exp: String) async throws {
        try await TestServer.with(configure: Self.configure) { server in
            let token = Self.token(exp: exp)
            let socket = try await TestWebSocket.connect(port: server.port, path: "/v1/ws?token=\(token)")
            #expect(await socket.closeCode() == 4001)
            let stream = try await TestSSE.connect(port: server.port, path: "/v1/sse?channel=chat:1&token=\(token)")
            #expect(stream.status == 401)
            await stream.close()
            let nbf = TestTokens.hs256(payload: #"{"sub":"m","nbf":\#(exp),"channels":["chat:*"]}"#)
            try await TestHTTP.anonymous(server).request("GET", "/v1/channels/chat:1/events?token=\(nbf)")
                .expectProblem("unauthorized")
            let iat = TestTokens.hs256(payload: #"{"sub":"m","iat":\#(exp),"channels":["chat:*"]}"#)
            try await TestHTTP.anonymous(server).request("GET", "/v1/channels/chat:1/events?token=\(iat)")
                .expectProblem("unauthorized")
            // Still serving.
            try await TestHTTP(server).publish("chat:1")
            #expect(try await TestHTTP(server).storedEvents("chat:1").count == 1)
        }
    }

    @Test("A token that expires in the year 9999 subscribes over WebSocket and SSE and receives events")
    func farExpiry() async throws {
        try await TestServer.with(configure: Self.configure) { server in
            let token = Self.token(exp: "253402300799")
            let socket = try await TestWebSocket.connect(port: server.port, path: "/v1/ws?token=\(token)")
            #expect(try await socket.nextJSON()["op"] == .string("welcome"))
            try await socket.send(#"{"op":"subscribe","channel":"chat:1"}"#)
            #expect(try await socket.nextJSON()["op"] == .string("subscribed"))
            let stream = try await TestSSE.connect(port: server.port, path: "/v1/sse?channel=chat:1&token=\(token)")
            #expect(stream.status == 200)
            try await TestHTTP(server).publish("chat:1")
            #expect(try await socket.nextJSON()["offset"]?.intValue == 1)
            #expect(await stream.next()?.id == "chat:1@1")
            await stream.close()
            await socket.drop()
        }
    }
}

import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// The browser origin allow-list: WebSockets from other origins are closed with 4003, and the HTTP
/// API answers CORS preflights and requests only for allowed origins.
@Suite("Origins and CORS")
struct OriginTests {
    private static let allowed = "https://app.example.com"

    private static func configure(_ configuration: inout ServerConfiguration) {
        configuration.allowedOrigins = [allowed]
    }

    @Test("A browser WebSocket from an origin not on the list is closed with 4003 before anything else")
    func webSocketOriginRefused() async throws {
        try await TestServer.with(configure: Self.configure) { server in
            let refused = try await TestWebSocket.connect(
                port: server.port,
                headers: ["Origin": "https://evil.example.net", "Authorization": "Bearer \(server.adminKey)"]
            )
            #expect(await refused.next() == .close(code: 4003))

            let welcomed = try await TestWebSocket.connect(port: server.port, headers: ["Origin": Self.allowed])
            let welcome = try await welcomed.nextJSON()
            #expect(welcome["op"] == .string("welcome"))
            await welcomed.drop()

            // Without an Origin header (a server, not a browser) the list does not apply.
            let server2server = try await TestWebSocket.connect(port: server.port)
            #expect(try await server2server.nextJSON()["op"] == .string("welcome"))
            await server2server.drop()
            #expect(try await TestHTTP(server).metric(#"switchboard_refused_total{limit="origin"}"#) == 1)
        }
    }

    @Test("A page on the same host name (any port) may connect without being listed")
    func sameHostOrigin() async throws {
        try await TestServer.with(configure: Self.configure) { server in
            let socket = try await TestWebSocket.connect(
                port: server.port,
                headers: ["Origin": "http://127.0.0.1:3000"]
            )
            #expect(try await socket.nextJSON()["op"] == .string("welcome"))
            await socket.drop()
        }
    }

    @Test("A preflight from an allowed origin gets the CORS headers; one from another origin gets none")
    func preflight() async throws {
        try await TestServer.with(configure: Self.configure) { server in
            let client = TestHTTP.anonymous(server)
            let allowed = try await client.request(
                "OPTIONS",
                "/v1/channels/orders/events",
                headers: [
                    "Origin": Self.allowed, "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "authorization, content-type",
                ]
            )
            #expect(allowed.status == 204)
            #expect(allowed.headers["access-control-allow-origin"] == Self.allowed)
            #expect(allowed.headers["access-control-allow-methods"]?.contains("POST") == true)
            #expect(allowed.headers["access-control-allow-headers"]?.contains("Authorization") == true)
            #expect(allowed.headers["vary"] == "Origin")

            let other = try await client.request(
                "OPTIONS",
                "/v1/channels/orders/events",
                headers: ["Origin": "https://evil.example.net", "Access-Control-Request-Method": "POST"]
            )
            #expect(other.headers["access-control-allow-origin"] == nil, "headers: \(other.headers)")
            #expect(other.headers["access-control-allow-methods"] == nil)
        }
    }

    @Test("Answers to an allowed origin carry Access-Control-Allow-Origin, problems included")
    func corsOnAnswers() async throws {
        try await TestServer.with(configure: Self.configure) { server in
            let admin = TestHTTP(server)
            let published = try await admin.request(
                "POST",
                "/v1/channels/orders/events",
                body: #"{"type":"test","data":{}}"#,
                headers: ["Origin": Self.allowed]
            )
            #expect(published.status == 201)
            #expect(published.headers["access-control-allow-origin"] == Self.allowed)
            #expect(published.headers["access-control-expose-headers"]?.contains("Retry-After") == true)

            let refused = try await TestHTTP.anonymous(server).request(
                "GET",
                "/v1/channels/orders/events",
                headers: ["Origin": Self.allowed]
            )
            refused.expectProblem("unauthorized")
            #expect(refused.headers["access-control-allow-origin"] == Self.allowed)

            let foreign = try await admin.request(
                "GET",
                "/v1/channels/orders/events",
                headers: ["Origin": "https://evil.example.net"]
            )
            #expect(foreign.status == 200)
            #expect(foreign.headers["access-control-allow-origin"] == nil)
        }
    }
}

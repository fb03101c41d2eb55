import Foundation
import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// Client tokens (HS256 JWTs) on the HTTP API: they may read history where their claims or a personal
/// namespace allow, and never write.
@Suite("Client tokens over HTTP")
struct ClientTokenHTTPTests {
    private static let secret = TestTokens.secret

    private static func configure(_ configuration: inout ServerConfiguration) {
        configuration.clientTokens = ClientTokenSettings(secret: secret)
        configuration.engine.namespaces.named["inbox"] = NamespacePolicy(isPersonal: true)
    }

    private static func token(
        payload: String,
        secret: String = secret,
        header: String = #"{"alg":"HS256","typ":"JWT"}"#
    )
        -> String
    {
        TestTokens.hs256(payload: payload, secret: secret, header: header)
    }

    private static func alicePayload(expiresIn seconds: Int = 60, channels: String = #"["chat:*"]"#) -> String {
        let exp = Int(Date().timeIntervalSince1970) + seconds
        return #"{"sub":"alice","exp":\#(exp),"channels":\#(channels)}"#
    }

    private static func read(_ server: TestServer, _ channel: String, token: String) async throws -> TestResponse {
        try await TestHTTP.anonymous(server).request("GET", "/v1/channels/\(channel)/events?token=\(token)")
    }

    @Test("A token reads the channels its claim lists (200) and no others (403 forbidden)")
    func channelsClaim() async throws {
        try await TestServer.with(configure: Self.configure) { server in
            try await TestHTTP(server).publish("chat:1")
            let token = Self.token(payload: Self.alicePayload())
            let allowed = try await Self.read(server, "chat:1", token: token)
            #expect(allowed.status == 200, "body: \(allowed.body)")
            #expect(try allowed.json["events"]?.arrayValue?.count == 1)
            let refused = try await Self.read(server, "orders", token: token)
            refused.expectProblem("forbidden")
            // The same token as a bearer header reads too.
            let bearer = try await TestHTTP(baseURL: server.baseURL, key: token).request(
                "GET",
                "/v1/channels/chat:1/events"
            )
            #expect(bearer.status == 200, "body: \(bearer.body)")
        }
    }

    @Test("Expired, wrongly signed and unsigned tokens are refused with 401 unauthorized")
    func invalidTokens() async throws {
        try await TestServer.with(configure: Self.configure) { server in
            let expired = Self.token(payload: Self.alicePayload(expiresIn: -600))
            try await Self.read(server, "chat:1", token: expired).expectProblem("unauthorized")
            let otherSecret = Self.token(payload: Self.alicePayload(), secret: "another-secret-another-secret-another")
            try await Self.read(server, "chat:1", token: otherSecret).expectProblem("unauthorized")
            let unsigned =
                TestTokens.base64URL(Array(#"{"alg":"none","typ":"JWT"}"#.utf8)) + "."
                + TestTokens.base64URL(Array(Self.alicePayload().utf8)) + "."
            try await Self.read(server, "chat:1", token: unsigned).expectProblem("unauthorized")
            // alg none with the signature of the real secret still is refused.
            let noneSigned = Self.token(payload: Self.alicePayload(), header: #"{"alg":"none","typ":"JWT"}"#)
            try await Self.read(server, "chat:1", token: noneSigned).expectProblem("unauthorized")
        }
    }

    @Test("The HTTP write API takes API keys only: a valid token as bearer gets 401 and nothing is stored")
    func tokenCannotPublish() async throws {
        try await TestServer.with(configure: Self.configure) { server in
            let token = Self.token(payload: Self.alicePayload(channels: #"["chat:*"]"#))
            let client = TestHTTP(baseURL: server.baseURL, key: token)
            let refused = try await client.request(
                "POST",
                "/v1/channels/chat:1/events",
                body: #"{"type":"test","data":{}}"#
            )
            refused.expectProblem("unauthorized")
            let batch = try await client.request(
                "POST",
                "/v1/events",
                body: #"{"events":[{"channel":"chat:1","type":"test","data":{}}]}"#
            )
            batch.expectProblem("unauthorized")
            #expect(try await TestHTTP(server).storedEvents("chat:1").isEmpty)
        }
    }

    @Test("In a personal namespace, alice's token reads inbox:alice (200) but not inbox:bob (403)")
    func personalNamespace() async throws {
        try await TestServer.with(configure: Self.configure) { server in
            try await TestHTTP(server).publish("inbox:alice")
            try await TestHTTP(server).publish("inbox:bob")
            let token = Self.token(payload: Self.alicePayload())
            let own = try await Self.read(server, "inbox:alice", token: token)
            #expect(own.status == 200, "body: \(own.body)")
            #expect(try own.json["events"]?.arrayValue?.count == 1)
            try await Self.read(server, "inbox:bob", token: token).expectProblem("forbidden")
            try await TestHTTP.anonymous(server).request("GET", "/v1/channels/inbox:alice/events")
                .expectProblem("unauthorized")
        }
    }
}

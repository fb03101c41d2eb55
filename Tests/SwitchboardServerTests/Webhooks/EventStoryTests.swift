import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// `GET /v1/events/{id}` over real sockets: where an event came from, and every delivery it caused.
@Suite("An event's story", .timeLimit(.minutes(5)))
struct EventStoryTests {
    private static func configure(_ configuration: inout ServerConfiguration) {
        WebhookTest.configure()(&configuration)
        configuration.clientTokens = ClientTokenSettings(secret: TestTokens.secret)
        configuration.engine.namespaces.named["chat"] = NamespacePolicy(allowsClientPublish: true)
    }

    private static func story(_ http: TestHTTP, _ id: String) async throws -> JSONValue {
        let response = try await http.request("GET", "/v1/events/\(id)")
        try #require(response.status == 200, "story answered \(response.status): \(response.body)")
        return try response.json
    }

    @Test("An API publish: its origin names the key; the story lists the delivery with its attempts")
    func apiPublish() async throws {
        try await WebhookTest.withOrdersEndpoint(configure: Self.configure) { server, http, endpoint, _ in
            let key = try await server.addAPIKey(scopes: ["publish:orders"])
            let receipt = try await TestHTTP(baseURL: server.baseURL, key: key).publish("orders", data: #"{"n":7}"#)
            let id = try #require(receipt["id"]?.stringValue)
            let story = try await TestActivity.eventually("the delivery succeeded") {
                let story = try await Self.story(http, id)
                let statuses = story["deliveries"]?.arrayValue?.compactMap { $0["status"]?.stringValue }
                return statuses == ["succeeded"] ? story : nil
            }
            #expect(story["id"] == .string(id))
            #expect(story["event"]?["channel"] == .string("orders"))
            #expect(story["event"]?["offset"] == .int(1))
            #expect(story["event"]?["data"] == .object([("n", .int(7))]))
            #expect(story["origin"]?["kind"] == .string("api"))
            let keys = try await http.request("GET", "/v1/keys").json["keys"]?.arrayValue ?? []
            let keyID = keys.first { $0["scopes"] == .array([.string("publish:orders")]) }?["id"]
            #expect(story["origin"]?["key"] == keyID)
            let delivery = try #require(story["deliveries"]?.arrayValue?.first)
            #expect(delivery["endpoint"] == .string(endpoint))
            #expect(delivery["attempts"]?.arrayValue?.first?["status"] == .int(200))
        }
    }

    @Test("A client publish names its user; an inbound webhook names its source")
    func clientAndInbound() async throws {
        try await TestServer.with(configure: Self.configure) { server in
            let http = TestHTTP(server)
            let token = TestTokens.token(user: "alice", channels: #"["chat:*"]"#, publish: #"["chat:*"]"#)
            let alice = try await TestWebSocket.connect(port: server.port, path: "/v1/ws?token=\(token)")
            try #require(try await alice.nextJSON()["op"] == .string("welcome"))
            try await alice.send(#"{"op":"publish","channel":"chat:1","type":"m","data":{},"ref":1}"#)
            let published = try await alice.nextJSON()
            let clientEvent = try #require(published["id"]?.stringValue, "got \(published)")
            #expect(
                try await Self.story(http, clientEvent)["origin"]
                    == .object([
                        ("kind", .string("client")), ("user", .string("alice")),
                    ])
            )

            let created = try await http.request(
                "POST",
                "/v1/sources",
                body:
                    #"{"name":"github","verify":"github","secrets":["It's a Secret to Everybody"],"channel":"github"}"#
            )
            #expect(created.status == 201, "body: \(created.body)")
            let inbound = try await TestHTTP.anonymous(server).request(
                "POST",
                "/v1/inbound/github",
                body: "Hello, World!",
                headers: [
                    "X-Hub-Signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
                    "X-GitHub-Event": "ping", "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
                ]
            )
            #expect(inbound.status == 202, "body: \(inbound.body)")
            let stored = try await http.storedEvents("github")
            let inboundEvent = try #require(stored.first?["id"]?.stringValue)
            #expect(
                try await Self.story(http, inboundEvent)["origin"]
                    == .object([
                        ("kind", .string("inbound")), ("source", .string("github")),
                    ])
            )
        }
    }

    @Test("A test delivery has a story without a logged event; an unknown id is not_found")
    func testDeliveryAndUnknown() async throws {
        try await WebhookTest.withOrdersEndpoint(configure: Self.configure) { _, http, endpoint, _ in
            let sent = try await http.request("POST", "/v1/endpoints/\(endpoint)/test")
            let id = try #require(try sent.json["event"]?.stringValue)
            let story = try await Self.story(http, id)
            #expect(story["event"] == .null)
            #expect(story["origin"] == .null)
            #expect(story["deliveries"]?.arrayValue?.count == 1)
            try await http.request("GET", "/v1/events/evt_unknown").expectProblem("not_found")
            try await http.request("GET", "/v1/events/" + String(repeating: "x", count: 300)).expectProblem("not_found")
        }
    }
}

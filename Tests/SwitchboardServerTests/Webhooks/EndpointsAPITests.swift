import Foundation
import SwitchboardCore
import SwitchboardTestSupport
import Testing

/// `/v1/endpoints…` over real sockets: who may call it, validation, and each call's effect.
@Suite("Endpoints API", .timeLimit(.minutes(5)))
struct EndpointsAPITests {
    /// Every endpoint and delivery route, with a body where one is needed.
    private static let adminRoutes: [(method: String, path: String, body: String?)] = [
        ("POST", "/v1/endpoints", #"{"url":"https://example.com/hook","channels":["orders"]}"#),
        ("GET", "/v1/endpoints", nil),
        ("GET", "/v1/endpoints/ep_x", nil),
        ("PATCH", "/v1/endpoints/ep_x", #"{"description":"x"}"#),
        ("DELETE", "/v1/endpoints/ep_x", nil),
        ("GET", "/v1/endpoints/ep_x/secret", nil),
        ("POST", "/v1/endpoints/ep_x/rotate-secret", nil),
        ("POST", "/v1/endpoints/ep_x/test", nil),
        ("POST", "/v1/endpoints/ep_x/enable", nil),
        ("POST", "/v1/endpoints/ep_x/disable", nil),
        ("POST", "/v1/endpoints/ep_x/replay", #"{"since":"2026-01-01T00:00:00.000Z"}"#),
        ("GET", "/v1/endpoints/ep_x/deliveries", nil),
        ("GET", "/v1/deliveries/dlv_x", nil),
        ("POST", "/v1/deliveries/dlv_x/retry", nil),
        ("GET", "/v1/events/evt_x", nil),
    ]

    private static func endpointList(_ http: TestHTTP) async throws -> [JSONValue] {
        let response = try await http.request("GET", "/v1/endpoints")
        try #require(response.status == 200, "list answered \(response.status): \(response.body)")
        return try response.json["endpoints"]?.arrayValue ?? []
    }

    @Test("Every endpoint call needs an admin key: 401 without a key, 403 with a key lacking admin")
    func adminRequired() async throws {
        try await TestServer.with(configure: WebhookTest.configure()) { server in
            let key = try await server.addAPIKey(scopes: ["publish:*", "subscribe:*"])
            let anonymous = TestHTTP.anonymous(server)
            let publisher = TestHTTP(baseURL: server.baseURL, key: key)
            // The key works for what it may do.
            #expect(try await publisher.publish("orders")["offset"]?.intValue == 1)
            for route in Self.adminRoutes {
                let withoutKey = try await anonymous.request(route.method, route.path, body: route.body)
                withoutKey.expectProblem("unauthorized")
                let withoutAdmin = try await publisher.request(route.method, route.path, body: route.body)
                withoutAdmin.expectProblem("forbidden")
            }
            #expect(try await Self.endpointList(TestHTTP(server)).isEmpty)
        }
    }

    @Test("Invalid endpoints are refused with 400 bad_request and nothing is created")
    func validation() async throws {
        try await TestServer.with(configure: WebhookTest.configure()) { server in
            let http = TestHTTP(server)
            let bodies = [
                #"{"channels":["orders"]}"#,
                #"{"url":"not a url","channels":["orders"]}"#,
                #"{"url":"ftp://example.com/hook","channels":["orders"]}"#,
                #"{"url":"https://user:password@example.com/hook","channels":["orders"]}"#,
                #"{"url":"https://example.com/hook"}"#,
                #"{"url":"https://example.com/hook","channels":[]}"#,
                #"{"url":"https://example.com/hook","channels":["orders"],"colour":"blue"}"#,
                #"{"url":"https://example.com/hook","channels":["orders"],"rateLimit":0}"#,
                #"{"url":"https://example.com/hook","channels":["orders"],"ordered":"yes"}"#,
                #"{"url":"https://example.com/hook","channels":["orders"],"headers":{"webhook-id":"x"}}"#,
                #"{"url":"https://example.com/hook","channels":["orders"],"secret":"not-a-secret"}"#,
                #"{"url":"https://example.com/hook","channels":["orders"],"signing":"rsa"}"#,
                #"["https://example.com/hook"]"#,
                "not json",
            ]
            for body in bodies {
                let response = try await http.request("POST", "/v1/endpoints", body: body)
                response.expectProblem("bad_request")
            }
            #expect(try await Self.endpointList(http).isEmpty)
        }
    }

    @Test("Create, list, read, change and delete an endpoint; GET never shows the secret")
    func lifecycle() async throws {
        try await TestServer.with(configure: WebhookTest.configure()) { server in
            let http = TestHTTP(server)
            let created = try await WebhookTest.createEndpoint(
                http,
                body: #"""
                    {"url":"https://example.com/hook","channels":["orders","chat:*"],"types":["order.*"],
                     "description":"billing","rateLimit":50,"headers":{"X-Team":"billing"}}
                    """#
            )
            let id = try WebhookTest.id(of: created)
            #expect(id.hasPrefix("ep_"))
            let secret = try #require(created["secret"]?.stringValue)
            #expect(secret.hasPrefix("whsec_"))
            #expect(created["url"]?.stringValue == "https://example.com/hook")
            #expect(created["channels"] == .array([.string("orders"), .string("chat:*")]))
            #expect(created["types"] == .array([.string("order.*")]))
            #expect(created["description"]?.stringValue == "billing")
            #expect(created["rateLimit"]?.intValue == 50)
            #expect(created["ordered"]?.boolValue == false)
            #expect(created["headers"] == .object([("X-Team", .string("billing"))]))
            #expect(created["enabled"]?.boolValue == true)

            let other = try WebhookTest.id(
                of: try await WebhookTest.createEndpoint(
                    http,
                    body: #"{"url":"https://example.org/other","channels":["*"]}"#
                )
            )
            let listed = try await http.request("GET", "/v1/endpoints")
            #expect(listed.status == 200)
            let items = try listed.json["endpoints"]?.arrayValue ?? []
            #expect(Set(items.compactMap { $0["id"]?.stringValue }) == [id, other])
            #expect(items.allSatisfy { $0["secret"] == nil })
            #expect(!listed.body.contains(secret))

            let read = try await http.request("GET", "/v1/endpoints/\(id)")
            #expect(read.status == 200)
            let endpoint = try read.json
            #expect(endpoint["secret"] == nil)
            #expect(!read.body.contains(secret))
            #expect(endpoint["url"] == created["url"] && endpoint["types"] == created["types"])

            // PATCH changes what it names and keeps the rest.
            let patched = try await http.request("PATCH", "/v1/endpoints/\(id)", body: #"{"channels":["billing"]}"#)
            #expect(patched.status == 200, "body: \(patched.body)")
            #expect(!patched.body.contains(secret))
            let changed = try await http.request("GET", "/v1/endpoints/\(id)").json
            #expect(changed["channels"] == .array([.string("billing")]))
            for member in ["url", "types", "description", "rateLimit", "ordered", "headers", "enabled", "created"] {
                #expect(changed[member] == created[member], "\(member) changed")
            }
            let refused = try await http.request("PATCH", "/v1/endpoints/\(id)", body: #"{"url":"ftp://nowhere"}"#)
            refused.expectProblem("bad_request")
            let withSecret = try await http.request("PATCH", "/v1/endpoints/\(id)", body: #"{"secret":"\#(secret)"}"#)
            withSecret.expectProblem("bad_request")
            #expect(try await http.request("GET", "/v1/endpoints/\(id)").json["url"] == created["url"])

            let deleted = try await http.request("DELETE", "/v1/endpoints/\(id)")
            #expect(deleted.status == 204)
            try await http.request("GET", "/v1/endpoints/\(id)").expectProblem("not_found")
            try await http.request("DELETE", "/v1/endpoints/\(id)").expectProblem("not_found")
            #expect(try await Self.endpointList(http).compactMap { $0["id"]?.stringValue } == [other])
        }
    }

    @Test("GET /secret reveals the secret a receiver configures, and the new one after a rotation")
    func revealSecret() async throws {
        try await TestServer.with(configure: WebhookTest.configure()) { server in
            let http = TestHTTP(server)
            let created = try await WebhookTest.createEndpoint(
                http,
                body: #"{"url":"https://example.com/hook","channels":["orders"]}"#
            )
            let id = try WebhookTest.id(of: created)
            let revealed = try await http.request("GET", "/v1/endpoints/\(id)/secret")
            #expect(revealed.status == 200, "body: \(revealed.body)")
            #expect(revealed.headers["cache-control"] == "no-store")
            #expect(try revealed.json == .object([("secret", created["secret"] ?? .null)]))
            let rotated = try await http.request("POST", "/v1/endpoints/\(id)/rotate-secret")
            let newSecret = try #require(try rotated.json["secret"]?.stringValue)
            #expect(
                try await http.request("GET", "/v1/endpoints/\(id)/secret").json["secret"]?.stringValue == newSecret
            )
        }
    }

    @Test("An operator disables an endpoint: nothing is delivered until it is enabled, then the waiting events are")
    func disableAndEnable() async throws {
        try await WebhookTest.withOrdersEndpoint { _, http, id, receiver in
            try await http.publish("orders")
            _ = try await TestActivity.eventually("the first delivery") { receiver.all.count == 1 ? true : nil }
            let disabled = try await http.request("POST", "/v1/endpoints/\(id)/disable")
            #expect(disabled.status == 200, "body: \(disabled.body)")
            #expect(try disabled.json["enabled"] == .bool(false))
            #expect(try disabled.json["disabledReason"] == .string("disabled by an operator"))
            try await http.publish("orders")
            let enabled = try await http.request("POST", "/v1/endpoints/\(id)/enable")
            #expect(try enabled.json["enabled"] == .bool(true))
            try await http.publish("orders")
            let received = try await TestActivity.eventually("the delivery after enabling") {
                receiver.all.count >= 2 ? receiver.all : nil
            }
            // The event published while disabled was not queued for it; the one after enabling was.
            #expect(received.compactMap(WebhookTest.offset) == [1, 3])
        }
    }

    @Test("Unknown endpoints answer 404 not_found on every call")
    func unknownEndpoint() async throws {
        try await TestServer.with(configure: WebhookTest.configure()) { server in
            let http = TestHTTP(server)
            for route in Self.adminRoutes where route.path.contains("ep_x") || route.path.contains("evt_x") {
                let response = try await http.request(route.method, route.path, body: route.body)
                response.expectProblem("not_found")
            }
        }
    }

    @Test("A changed channel list decides which later events are delivered")
    func patchChangesDeliveries() async throws {
        let receiver = try await TestWebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await TestServer.with(configure: WebhookTest.configure()) { server in
            let http = TestHTTP(server)
            let id = try WebhookTest.id(
                of: try await WebhookTest.createEndpoint(
                    http,
                    body: #"{"url":"\#(receiver.url)","channels":["orders"]}"#
                )
            )
            let patched = try await http.request("PATCH", "/v1/endpoints/\(id)", body: #"{"channels":["billing"]}"#)
            try #require(patched.status == 200, "body: \(patched.body)")
            let orders = try #require(try await http.publish("orders")["id"]?.stringValue)
            let billing = try #require(try await http.publish("billing")["id"]?.stringValue)
            _ = try await WebhookTest.requests(to: receiver, webhookID: billing)
            #expect(!receiver.all.contains { $0.headers["webhook-id"] == orders })
            let deliveries = try await WebhookTest.deliveries(http, endpoint: id)
            #expect(deliveries.map { $0["event"]?.stringValue } == [billing])
        }
    }

    @Test("POST /test sends a switchboard.test event to that endpoint only")
    func testEvent() async throws {
        let target = try await TestWebhookReceiver.start()
        defer { Task { await target.stop() } }
        let bystander = try await TestWebhookReceiver.start()
        defer { Task { await bystander.stop() } }
        try await TestServer.with(configure: WebhookTest.configure()) { server in
            let http = TestHTTP(server)
            let endpoint = try await WebhookTest.createEndpoint(
                http,
                body: #"{"url":"\#(target.url)","channels":["orders"],"types":["order.*"]}"#
            )
            let id = try WebhookTest.id(of: endpoint)
            let secret = try #require(endpoint["secret"]?.stringValue)
            let other = try WebhookTest.id(
                of: try await WebhookTest.createEndpoint(http, body: #"{"url":"\#(bystander.url)","channels":["*"]}"#)
            )

            let response = try await http.request("POST", "/v1/endpoints/\(id)/test")
            #expect(response.status == 202, "body: \(response.body)")
            let eventID = try #require(try response.json["event"]?.stringValue)
            let request = try #require(try await WebhookTest.requests(to: target, webhookID: eventID).first)
            #expect(try request.isSigned(with: secret))
            let body = try JSONParser.parse(request.body)
            #expect(body["type"]?.stringValue == "switchboard.test")
            #expect(body["data"]?["endpoint"]?.stringValue == id)
            _ = try await WebhookTest.delivery(http, endpoint: id) { $0["status"]?.stringValue == "succeeded" }

            #expect(try await WebhookTest.deliveries(http, endpoint: other).isEmpty)
            #expect(bystander.all.isEmpty)
            #expect(target.all.count == 1)
        }
    }
}

import Foundation
import SwitchboardCore
import SwitchboardTestSupport
import Testing

/// `GET /v1/endpoints/{id}/deliveries` and `GET /v1/deliveries/{id}`: paging, filtering, shape.
@Suite("Deliveries API", .timeLimit(.minutes(5)))
struct DeliveriesAPITests {
    /// A server with one endpoint that got five events on `orders`, offset 2 failing for good (dead),
    /// the others succeeded; `body` gets the client and the endpoint id.
    private static func withFiveDeliveries(_ body: (TestHTTP, String) async throws -> Void) async throws {
        let receiver = try await TestWebhookReceiver.start { request in
            TestWebhookReceiver.Reply(status: WebhookTest.offset(of: request) == 2 ? 500 : 200, body: "seen")
        }
        defer { Task { await receiver.stop() } }
        try await TestServer.with(configure: WebhookTest.configure(schedule: "0s,100ms,100ms")) { server in
            let http = TestHTTP(server)
            let id = try WebhookTest.id(
                of: try await WebhookTest.createEndpoint(
                    http,
                    body: #"{"url":"\#(receiver.url)","channels":["orders"]}"#
                )
            )
            for n in 1...5 { try await http.publish("orders", data: #"{"n":\#(n)}"#) }
            _ = try await TestActivity.eventually("five finished deliveries") {
                let items = try await WebhookTest.deliveries(http, endpoint: id)
                let finished = items.filter { ["succeeded", "dead"].contains($0["status"]?.stringValue ?? "") }
                return finished.count == 5 ? items : nil
            }
            try await body(http, id)
        }
    }

    private static func offsets(_ items: [JSONValue]) -> [Int64] {
        items.compactMap { $0["offset"]?.intValue }
    }

    @Test("Deliveries list newest first and page with limit and before")
    func paging() async throws {
        try await Self.withFiveDeliveries { http, id in
            let first = try await WebhookTest.deliveryPage(http, endpoint: id, query: "limit=2")
            let firstItems = first["deliveries"]?.arrayValue ?? []
            #expect(Self.offsets(firstItems) == [5, 4])
            let firstNext = try #require(first["next"]?.stringValue)
            #expect(firstNext == firstItems.last?["id"]?.stringValue)

            let second = try await WebhookTest.deliveryPage(http, endpoint: id, query: "limit=2&before=\(firstNext)")
            let secondItems = second["deliveries"]?.arrayValue ?? []
            #expect(Self.offsets(secondItems) == [3, 2])
            let secondNext = try #require(second["next"]?.stringValue)

            let third = try await WebhookTest.deliveryPage(http, endpoint: id, query: "limit=2&before=\(secondNext)")
            let thirdItems = third["deliveries"]?.arrayValue ?? []
            #expect(Self.offsets(thirdItems) == [1])
            #expect(third["next"] == .null)

            let ids = (firstItems + secondItems + thirdItems).compactMap { $0["id"]?.stringValue }
            #expect(ids.count == 5 && Set(ids).count == 5)
            #expect(ids.allSatisfy { $0.hasPrefix("dlv_") })
            let all = try await WebhookTest.deliveries(http, endpoint: id)
            #expect(all.compactMap { $0["id"]?.stringValue } == ids)
        }
    }

    @Test("status= filters the list, also while paging")
    func statusFilter() async throws {
        try await Self.withFiveDeliveries { http, id in
            let succeeded = try await WebhookTest.deliveries(http, endpoint: id, query: "status=succeeded")
            #expect(Self.offsets(succeeded) == [5, 4, 3, 1])
            #expect(succeeded.allSatisfy { $0["status"]?.stringValue == "succeeded" })
            let dead = try await WebhookTest.deliveries(http, endpoint: id, query: "status=dead")
            #expect(Self.offsets(dead) == [2])
            #expect(try await WebhookTest.deliveries(http, endpoint: id, query: "status=failed").isEmpty)
            #expect(try await WebhookTest.deliveries(http, endpoint: id, query: "status=pending").isEmpty)

            let page = try await WebhookTest.deliveryPage(http, endpoint: id, query: "status=succeeded&limit=2")
            #expect(Self.offsets(page["deliveries"]?.arrayValue ?? []) == [5, 4])
            let next = try #require(page["next"]?.stringValue)
            let rest = try await WebhookTest.deliveries(
                http,
                endpoint: id,
                query: "status=succeeded&limit=2&before=\(next)"
            )
            #expect(Self.offsets(rest) == [3, 1])
        }
    }

    @Test("One delivery reads with its attempts in PROTOCOL.md's shape")
    func readOne() async throws {
        try await Self.withFiveDeliveries { http, id in
            let listed = try #require(try await WebhookTest.deliveries(http, endpoint: id, query: "status=dead").first)
            let deliveryID = try #require(listed["id"]?.stringValue)
            let response = try await http.request("GET", "/v1/deliveries/\(deliveryID)")
            #expect(response.status == 200)
            let delivery = try response.json
            #expect(delivery == listed)
            for member in ["id", "endpoint", "event", "channel", "offset", "type", "status", "nextAttempt", "attempts"]
            {
                #expect(delivery[member] != nil, "\(member) is missing")
            }
            #expect(delivery["endpoint"]?.stringValue == id)
            #expect(delivery["event"]?.stringValue?.hasPrefix("evt_") == true)
            #expect(delivery["channel"]?.stringValue == "orders")
            #expect(delivery["offset"]?.intValue == 2)
            #expect(delivery["type"]?.stringValue == "test")
            #expect(delivery["status"]?.stringValue == "dead")
            #expect(delivery["nextAttempt"] == .null)
            let attempts = try #require(delivery["attempts"]?.arrayValue)
            #expect(attempts.count == 3)
            for attempt in attempts {
                #expect(isProtocolTime(attempt["time"]?.stringValue))
                #expect(attempt["status"]?.intValue == 500)
                #expect((attempt["latencyMs"]?.intValue ?? -1) >= 0)
                #expect(attempt["error"]?.stringValue?.isEmpty == false)
                #expect(attempt["responseBody"]?.stringValue == "seen")
            }
        }
    }

    @Test("Bad filters are 400 bad_request; unknown deliveries and endpoints are 404 not_found")
    func errors() async throws {
        try await TestServer.with(configure: WebhookTest.configure()) { server in
            let http = TestHTTP(server)
            let id = try WebhookTest.id(
                of: try await WebhookTest.createEndpoint(
                    http,
                    body: #"{"url":"http://127.0.0.1:9/hooks","channels":["orders"]}"#
                )
            )
            for query in ["status=bogus", "limit=0", "limit=1001", "limit=abc"] {
                let response = try await http.request("GET", "/v1/endpoints/\(id)/deliveries?\(query)")
                response.expectProblem("bad_request")
            }
            try await http.request("GET", "/v1/deliveries/dlv_unknown").expectProblem("not_found")
            try await http.request("POST", "/v1/deliveries/dlv_unknown/retry").expectProblem("not_found")
            try await http.request("GET", "/v1/endpoints/ep_unknown/deliveries").expectProblem("not_found")
            #expect(try await WebhookTest.deliveries(http, endpoint: id).isEmpty)
        }
    }
}

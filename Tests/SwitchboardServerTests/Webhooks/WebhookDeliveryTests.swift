import Foundation
import SwitchboardCore
import SwitchboardTestSupport
import Testing

/// Webhooks out, end to end: a real server POSTs to a real receiver socket.
@Suite("Webhook delivery", .timeLimit(.minutes(5)))
struct WebhookDeliveryTests {
    @Test("A published event reaches a matching endpoint as a signed Standard Webhooks POST")
    func signedDelivery() async throws {
        let receiver = try await TestWebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await TestServer.with(configure: WebhookTest.configure()) { server in
            let http = TestHTTP(server)
            let endpoint = try await WebhookTest.createEndpoint(
                http,
                body:
                    #"{"url":"\#(receiver.url)","channels":["orders"],"types":["order.*"],"headers":{"X-Team":"billing"}}"#
            )
            let secret = try #require(endpoint["secret"]?.stringValue)
            #expect(secret.hasPrefix("whsec_"))
            try await http.publish("other", type: "order.created")
            try await http.publish("orders", type: "user.created")
            let receipt = try await http.publish("orders", type: "order.created", data: #"{"total":12}"#)

            let request = try await receiver.next()
            #expect(request.headers["webhook-id"] == receipt["id"]?.stringValue)
            #expect(request.headers["content-type"] == "application/json")
            #expect(request.headers["user-agent"]?.hasPrefix("Switchboard/") == true)
            #expect(request.headers["x-team"] == "billing")
            #expect(try request.isSigned(with: secret))
            let body = try JSONParser.parse(request.body)
            #expect(body.memberNameList == ["type", "timestamp", "channel", "offset", "data"])
            #expect(body["type"]?.stringValue == "order.created")
            #expect(body["channel"]?.stringValue == "orders")
            #expect(body["offset"]?.intValue == 2)
            #expect(body["timestamp"]?.stringValue == receipt["time"]?.stringValue)
            #expect(body["data"] == .object([("total", .int(12))]))

            let id = try #require(endpoint["id"]?.stringValue)
            let delivery = try await WebhookTest.delivery(http, endpoint: id) {
                $0["status"]?.stringValue == "succeeded"
            }
            #expect(delivery["event"]?.stringValue == receipt["id"]?.stringValue)
            #expect(delivery["nextAttempt"] == .null)
            let attempts = try #require(delivery["attempts"]?.arrayValue)
            #expect(attempts.count == 1)
            #expect(attempts.first?["status"]?.intValue == 200)
            // Events of other channels or types made no delivery.
            #expect(receiver.all.count == 1)
        }
    }
}

import Foundation
import SwitchboardCore
import SwitchboardTestSupport
import Testing

/// Failed attempts are retried on the schedule, `Retry-After` is honoured, and a delivery whose
/// attempts run out is `dead` and reported on `$system`.
@Suite("Webhook retries", .timeLimit(.minutes(5)))
struct WebhookRetryTests {
    @Test("A receiver failing three times with 500 gets the event on the 4th attempt, with one webhook-id")
    func succeedsOnFourthAttempt() async throws {
        let receiver = try await TestWebhookReceiver.start { request in
            request.number <= 3
                ? TestWebhookReceiver.Reply(status: 500, body: "not yet \(request.number)")
                : TestWebhookReceiver.Reply(status: 200, body: "ok")
        }
        defer { Task { await receiver.stop() } }
        try await TestServer.with(configure: WebhookTest.configure()) { server in
            let http = TestHTTP(server)
            let endpoint = try await WebhookTest.createEndpoint(
                http,
                body: #"{"url":"\#(receiver.url)","channels":["orders"]}"#
            )
            let secret = try #require(endpoint["secret"]?.stringValue)
            let id = try WebhookTest.id(of: endpoint)
            let receipt = try await http.publish("orders", type: "order.created", data: #"{"n":1}"#)
            let eventID = try #require(receipt["id"]?.stringValue)

            let delivery = try await WebhookTest.delivery(http, endpoint: id) {
                $0["status"]?.stringValue == "succeeded"
            }
            #expect(WebhookTest.attemptStatuses(delivery) == [500, 500, 500, 200])
            #expect(delivery["event"]?.stringValue == eventID)
            #expect(delivery["nextAttempt"] == .null)
            let attempts = try #require(delivery["attempts"]?.arrayValue)
            #expect(attempts.map { $0["number"]?.intValue } == [1, 2, 3, 4])
            #expect(attempts.first?["responseBody"]?.stringValue == "not yet 1")
            #expect(attempts.first?["error"]?.stringValue?.contains("500") == true)
            #expect(attempts.last?["error"] == .null)
            #expect(attempts.allSatisfy { isProtocolTime($0["time"]?.stringValue) })

            let requests = receiver.all
            #expect(requests.count == 4)
            #expect(requests.allSatisfy { $0.headers["webhook-id"] == eventID })
            #expect(Set(requests.map(\.text)).count == 1, "every attempt carries the same body")
            for request in requests {
                #expect(try request.isSigned(with: secret), "attempt \(request.number) is signed")
            }
        }
    }

    @Test(
        "Retry-After on 429 and 503 delays the next attempt past the schedule's 200 ms",
        arguments: [429, 503]
    )
    func retryAfterIsHonoured(status: Int) async throws {
        let receiver = try await TestWebhookReceiver.start { request in
            request.number == 1
                ? TestWebhookReceiver.Reply(status: status, headers: [("Retry-After", "2")], body: "slow down")
                : TestWebhookReceiver.Reply(status: 200)
        }
        defer { Task { await receiver.stop() } }
        try await TestServer.with(configure: WebhookTest.configure()) { server in
            let http = TestHTTP(server)
            let id = try WebhookTest.id(
                of: try await WebhookTest.createEndpoint(
                    http,
                    body: #"{"url":"\#(receiver.url)","channels":["orders"]}"#
                )
            )
            try await http.publish("orders")

            // Between the two attempts the delivery is `failed`, due again no sooner than 2 s later.
            let waiting = try await WebhookTest.delivery(http, endpoint: id) {
                $0["status"]?.stringValue == "failed" && $0["attempts"]?.arrayValue?.count == 1
            }
            let firstTime = try #require(
                (waiting["attempts"]?.arrayValue?.first?["time"]?.stringValue).flatMap(Timestamp.init(rfc3339:))
            )
            let nextAttempt = try #require(waiting["nextAttempt"]?.stringValue.flatMap(Timestamp.init(rfc3339:)))
            #expect(nextAttempt.millisecondsSinceEpoch - firstTime.millisecondsSinceEpoch >= 2000)

            let delivery = try await WebhookTest.delivery(http, endpoint: id) {
                $0["status"]?.stringValue == "succeeded"
            }
            #expect(WebhookTest.attemptStatuses(delivery) == [Int64(status), 200])
            #expect(receiver.all.count == 2)
            // The second attempt started when it was due, not before (the server's own record of it).
            let secondTime = try #require(
                (delivery["attempts"]?.arrayValue?.last?["time"]?.stringValue).flatMap(Timestamp.init(rfc3339:))
            )
            #expect(secondTime.millisecondsSinceEpoch >= nextAttempt.millisecondsSinceEpoch)
        }
    }

    @Test("When the schedule runs out the delivery is dead and delivery.exhausted appears on $system")
    func exhaustedDeliveryIsDead() async throws {
        let receiver = try await TestWebhookReceiver.start { _ in
            TestWebhookReceiver.Reply(status: 500, body: "always broken")
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
            let receipt = try await http.publish("orders", type: "order.created")
            let eventID = try #require(receipt["id"]?.stringValue)

            let delivery = try await WebhookTest.delivery(http, endpoint: id) { $0["status"]?.stringValue == "dead" }
            let deliveryID = try #require(delivery["id"]?.stringValue)
            #expect(WebhookTest.attemptStatuses(delivery) == [500, 500, 500])
            #expect(delivery["nextAttempt"] == .null)

            let event = try await WebhookTest.systemEvent(http, type: "delivery.exhausted") {
                $0["delivery"]?.stringValue == deliveryID
            }
            let data = try #require(event["data"])
            #expect(data["endpoint"]?.stringValue == id)
            #expect(data["event"]?.stringValue == eventID)
            #expect(data["attempts"]?.intValue == 3)
            #expect(data["channel"]?.stringValue == "orders")
            #expect(data["lastStatus"]?.intValue == 500)

            // `$` percent-encoded in the path names the same channel.
            let encoded = try await http.request("GET", "/v1/channels/%24system/events?after=0&limit=1000")
            #expect(encoded.status == 200, "body: \(encoded.body)")
            let encodedEvents = try encoded.json["events"]?.arrayValue ?? []
            #expect(encodedEvents.contains { $0["data"]?["delivery"]?.stringValue == deliveryID })

            // Dead means no attempt left: the receiver saw exactly the three.
            #expect(receiver.all.count == 3)
            #expect(
                try await WebhookTest.delivery(http, id: deliveryID) { _ in true }["attempts"]?.arrayValue?.count == 3
            )
        }
    }
}

import Foundation
import SwitchboardCore
import SwitchboardTestSupport
import Testing

/// Replaying an endpoint's deliveries and retrying one delivery by hand.
@Suite("Webhook replay and retry", .timeLimit(.minutes(5)))
struct WebhookReplayTests {
    /// A receiver that fails (500) until `healthy` is set.
    private static func switchableReceiver(_ healthy: Shared<Bool>) async throws -> TestWebhookReceiver {
        try await TestWebhookReceiver.start { _ in
            healthy.value ? TestWebhookReceiver.Reply(status: 200) : TestWebhookReceiver.Reply(status: 500)
        }
    }

    @Test("Replaying failed deliveries re-sends a dead one with the same webhook-id until it succeeds")
    func replayDeadDelivery() async throws {
        let healthy = Shared(false)
        let receiver = try await Self.switchableReceiver(healthy)
        defer { Task { await receiver.stop() } }
        try await TestServer.with(configure: WebhookTest.configure(schedule: "0s,100ms,100ms")) { server in
            let http = TestHTTP(server)
            let endpoint = try await WebhookTest.createEndpoint(
                http,
                body: #"{"url":"\#(receiver.url)","channels":["orders"]}"#
            )
            let id = try WebhookTest.id(of: endpoint)
            let secret = try #require(endpoint["secret"]?.stringValue)
            let since = WebhookTest.time(offsetMilliseconds: -1000)
            let receipt = try await http.publish("orders")
            let eventID = try #require(receipt["id"]?.stringValue)
            let dead = try await WebhookTest.delivery(http, endpoint: id) { $0["status"]?.stringValue == "dead" }
            #expect(WebhookTest.attemptStatuses(dead) == [500, 500, 500])

            healthy.set(true)
            let replay = try await http.request(
                "POST",
                "/v1/endpoints/\(id)/replay",
                body: #"{"since":"\#(since)","status":"failed"}"#
            )
            #expect(replay.status == 202, "body: \(replay.body)")
            #expect(try replay.json == .object([("replayed", .int(1))]))

            let requests = try await WebhookTest.requests(to: receiver, webhookID: eventID, atLeast: 4)
            #expect(try requests[3].isSigned(with: secret))
            let succeeded = try await WebhookTest.delivery(http, endpoint: id) {
                $0["status"]?.stringValue == "succeeded"
            }
            #expect(succeeded["id"] == dead["id"])
            #expect(WebhookTest.attemptStatuses(succeeded) == [500, 500, 500, 200])
            #expect(succeeded["nextAttempt"] == .null)
            #expect(receiver.all.allSatisfy { $0.headers["webhook-id"] == eventID })

            // Nothing failed any more; "all" sends the succeeded one once more.
            let none = try await http.request(
                "POST",
                "/v1/endpoints/\(id)/replay",
                body: #"{"since":"\#(since)","status":"failed"}"#
            )
            #expect(none.status == 202)
            #expect(try none.json == .object([("replayed", .int(0))]))
            let all = try await http.request(
                "POST",
                "/v1/endpoints/\(id)/replay",
                body: #"{"since":"\#(since)","status":"all"}"#
            )
            #expect(try all.json == .object([("replayed", .int(1))]))
            _ = try await WebhookTest.requests(to: receiver, webhookID: eventID, atLeast: 5)
            let again = try await WebhookTest.delivery(http, endpoint: id) {
                $0["status"]?.stringValue == "succeeded" && $0["attempts"]?.arrayValue?.count == 5
            }
            #expect(WebhookTest.attemptStatuses(again) == [500, 500, 500, 200, 200])

            // Deliveries created before `since` are not replayed.
            let future = WebhookTest.time(offsetMilliseconds: 60_000)
            let later = try await http.request(
                "POST",
                "/v1/endpoints/\(id)/replay",
                body: #"{"since":"\#(future)","status":"all"}"#
            )
            #expect(try later.json == .object([("replayed", .int(0))]))
        }
    }

    @Test("A replay by offsets counts first (dryRun, nothing sent), then re-sends exactly that range")
    func replayOffsetRange() async throws {
        try await WebhookTest.withOrdersEndpoint { _, http, id, receiver in
            for _ in 1...4 { try await http.publish("orders") }
            _ = try await TestActivity.eventually("4 deliveries") { receiver.all.count >= 4 ? true : nil }
            _ = try await TestActivity.eventually("4 succeeded deliveries") {
                let list = try await WebhookTest.deliveries(http, endpoint: id)
                return list.count == 4 && list.allSatisfy { $0["status"]?.stringValue == "succeeded" } ? true : nil
            }
            let range = #""channel":"orders","fromOffset":2,"toOffset":3,"status":"all""#
            let count = try await http.request("POST", "/v1/endpoints/\(id)/replay", body: "{\(range),\"dryRun\":true}")
            #expect(count.status == 200, "body: \(count.body)")
            #expect(try count.json == .object([("matching", .int(2))]))
            let failedOnly = try await http.request(
                "POST",
                "/v1/endpoints/\(id)/replay",
                body: #"{"channel":"orders","fromOffset":1,"dryRun":true}"#
            )
            #expect(try failedOnly.json == .object([("matching", .int(0))]))

            let replay = try await http.request("POST", "/v1/endpoints/\(id)/replay", body: "{\(range)}")
            #expect(replay.status == 202, "body: \(replay.body)")
            #expect(try replay.json == .object([("replayed", .int(2))]))
            let all = try await TestActivity.eventually("6 deliveries") {
                receiver.all.count >= 6 ? receiver.all : nil
            }
            #expect(all.count == 6)
            #expect(all.compactMap(WebhookTest.offset).sorted() == [1, 2, 2, 3, 3, 4])
        }
    }

    @Test("A replay request without a valid since or status, or for an unknown endpoint, is refused")
    func replayValidation() async throws {
        try await TestServer.with(configure: WebhookTest.configure()) { server in
            let http = TestHTTP(server)
            let id = try WebhookTest.id(
                of: try await WebhookTest.createEndpoint(
                    http,
                    body: #"{"url":"http://127.0.0.1:9/hooks","channels":["orders"]}"#
                )
            )
            let bodies = [
                "{}", #"{"since":"yesterday"}"#, #"{"since":"\#(WebhookTest.time())","status":"bogus"}"#,
                #"{"channel":"orders"}"#, #"{"channel":"orders","fromOffset":0}"#,
                #"{"channel":"orders","fromOffset":5,"toOffset":4}"#,
                #"{"channel":"orders","fromOffset":1,"since":"\#(WebhookTest.time())"}"#,
                #"{"since":"\#(WebhookTest.time())","dryRun":"yes"}"#,
            ]
            for body in bodies {
                let response = try await http.request("POST", "/v1/endpoints/\(id)/replay", body: body)
                response.expectProblem("bad_request")
            }
            let unknown = try await http.request(
                "POST",
                "/v1/endpoints/ep_unknown/replay",
                body: #"{"since":"\#(WebhookTest.time())"}"#
            )
            unknown.expectProblem("not_found")
        }
    }

    @Test("Retrying one delivery makes exactly one more attempt")
    func retryOne() async throws {
        let healthy = Shared(false)
        let receiver = try await Self.switchableReceiver(healthy)
        defer { Task { await receiver.stop() } }
        try await TestServer.with(configure: WebhookTest.configure(schedule: "0s,100ms,100ms")) { server in
            let http = TestHTTP(server)
            let id = try WebhookTest.id(
                of: try await WebhookTest.createEndpoint(
                    http,
                    body: #"{"url":"\#(receiver.url)","channels":["orders"]}"#
                )
            )
            let receipt = try await http.publish("orders")
            let eventID = try #require(receipt["id"]?.stringValue)
            let dead = try await WebhookTest.delivery(http, endpoint: id) { $0["status"]?.stringValue == "dead" }
            let deliveryID = try #require(dead["id"]?.stringValue)

            // Still failing: one more attempt, and the delivery is dead again.
            let retry = try await http.request("POST", "/v1/deliveries/\(deliveryID)/retry")
            #expect(retry.status == 202, "body: \(retry.body)")
            #expect(try retry.json["id"]?.stringValue == deliveryID)
            let deadAgain = try await WebhookTest.delivery(http, id: deliveryID) {
                $0["status"]?.stringValue == "dead" && $0["attempts"]?.arrayValue?.count == 4
            }
            #expect(WebhookTest.attemptStatuses(deadAgain) == [500, 500, 500, 500])
            #expect(deadAgain["nextAttempt"] == .null)
            #expect(receiver.all.count == 4)

            // Healthy now: the next retry succeeds.
            healthy.set(true)
            let second = try await http.request("POST", "/v1/deliveries/\(deliveryID)/retry")
            #expect(second.status == 202)
            let succeeded = try await WebhookTest.delivery(http, id: deliveryID) {
                $0["status"]?.stringValue == "succeeded"
            }
            #expect(WebhookTest.attemptStatuses(succeeded) == [500, 500, 500, 500, 200])
            #expect(receiver.all.count == 5)
            #expect(receiver.all.allSatisfy { $0.headers["webhook-id"] == eventID })
        }
    }
}

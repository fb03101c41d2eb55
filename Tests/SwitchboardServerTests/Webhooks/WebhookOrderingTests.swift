import Foundation
import SwitchboardCore
import SwitchboardTestSupport
import Testing

/// Ordered endpoints and rate limits: how deliveries to one endpoint are paced and sequenced.
@Suite("Webhook ordering and rate limits", .timeLimit(.minutes(5)))
struct WebhookOrderingTests {
    /// One request as the receiver script saw it, in the order the script ran.
    private struct Entry: Sendable {
        let offset: Int64
        let succeeded: Bool
    }

    private static func batch(channel: String, count: Int) -> String {
        let items = (1...count).map { #"{"channel":"\#(channel)","type":"t","data":{"n":\#($0)}}"# }
        return #"{"events":[\#(items.joined(separator: ","))]}"#
    }

    @Test("An ordered endpoint gets a channel's events in offset order, a failing one holding the rest back")
    func orderedDelivery() async throws {
        let failOnce: Set<Int64> = [3, 7]
        let failed = Shared<Set<Int64>>([])
        let log = Shared<[Entry]>([])
        let receiver = try await TestWebhookReceiver.start { request in
            let offset = WebhookTest.offset(of: request) ?? -1
            let succeeds = failed.update { failed in
                guard failOnce.contains(offset), !failed.contains(offset) else { return true }
                failed.insert(offset)
                return false
            }
            log.update { $0.append(Entry(offset: offset, succeeded: succeeds)) }
            return TestWebhookReceiver.Reply(status: succeeds ? 200 : 500)
        }
        defer { Task { await receiver.stop() } }
        try await TestServer.with(configure: WebhookTest.configure()) { server in
            let http = TestHTTP(server)
            let endpoint = try await WebhookTest.createEndpoint(
                http,
                body: #"{"url":"\#(receiver.url)","channels":["orders"],"ordered":true}"#
            )
            #expect(endpoint["ordered"]?.boolValue == true)
            let id = try WebhookTest.id(of: endpoint)
            let published = try await http.request("POST", "/v1/events", body: Self.batch(channel: "orders", count: 10))
            try #require(published.status == 201, "body: \(published.body)")

            let entries = try await TestActivity.eventually("ten successful receipts") {
                let entries = log.value
                return entries.filter(\.succeeded).count >= 10 ? entries : nil
            }
            var firstSuccesses: [Int64] = []
            for entry in entries where entry.succeeded && !firstSuccesses.contains(entry.offset) {
                firstSuccesses.append(entry.offset)
            }
            #expect(firstSuccesses == Array(1...10))
            // In arrival order, no request for offset n comes before every lower offset succeeded:
            // one delivery in flight at a time, the failing one retried before the next is sent.
            var succeededSoFar: Set<Int64> = []
            for (index, entry) in entries.enumerated() {
                let missing = (1..<max(1, entry.offset)).filter { !succeededSoFar.contains($0) }
                #expect(
                    missing.isEmpty,
                    "request \(index + 1) (offset \(entry.offset)) came before \(missing) succeeded"
                )
                if entry.succeeded { succeededSoFar.insert(entry.offset) }
            }
            #expect(entries.filter { !$0.succeeded }.map(\.offset) == [3, 7])
            #expect(entries.count == 12)

            let deliveries = try await TestActivity.eventually("every delivery succeeded") {
                let items = try await WebhookTest.deliveries(http, endpoint: id)
                return items.count == 10 && items.allSatisfy { $0["status"]?.stringValue == "succeeded" } ? items : nil
            }
            let third = try #require(deliveries.first { $0["offset"]?.intValue == 3 })
            #expect(WebhookTest.attemptStatuses(third) == [500, 200])
        }
    }

    @Test("An endpoint with rateLimit 5 gets its burst of 5, then 5 more for each second of tokens")
    func rateLimit() async throws {
        // The worker's rate limits read the injected monotonic clock, which stands still until the test
        // moves it: what is sent depends on the tokens, never on how fast the machine is.
        let clock = ManualClock()
        let receiver = try await TestWebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await TestServer.with(configure: WebhookTest.configure(), ambient: clock.ambient) { server in
            let http = TestHTTP(server)
            let endpoint = try await WebhookTest.createEndpoint(
                http,
                body: #"{"url":"\#(receiver.url)","channels":["orders"],"rateLimit":5}"#
            )
            #expect(endpoint["rateLimit"]?.intValue == 5)
            let id = try WebhookTest.id(of: endpoint)
            let published = try await http.request("POST", "/v1/events", body: Self.batch(channel: "orders", count: 15))
            try #require(published.status == 201, "body: \(published.body)")
            let ids = try #require(try published.json["events"]?.arrayValue).compactMap { $0["id"]?.stringValue }

            for (second, expected) in [5, 10, 15].enumerated() {
                if second > 0 { await clock.advance(by: .seconds(1)) }
                // Every request of this second answered and recorded: the worker has since looked for
                // more work with an empty bucket.
                try await TestActivity.eventually("\(expected) deliveries succeeded") {
                    let succeeded = try await WebhookTest.deliveries(
                        http,
                        endpoint: id,
                        query: "status=succeeded&limit=100"
                    )
                    return succeeded.count >= expected ? true : nil
                }
                #expect(receiver.all.count == expected, "after \(second) s of tokens")
            }
            #expect(Set(receiver.all.compactMap { $0.headers["webhook-id"] }) == Set(ids))
        }
    }
}

import Foundation
import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// The per-key publish rate and the request size limit, over real sockets.
@Suite("Publish limits")
struct PublishLimitsTests {
    /// A key's burst is `max(keyPublishRate, maximumBatchSize)` events, refilled at `keyPublishRate` a second.
    /// A burst of 3 refilled at 1 a second keeps the test clear of refills between quick requests.
    private static func limited(_ configuration: inout ServerConfiguration) {
        configuration.engine.limits.keyPublishRate = 1
        configuration.engine.limits.maximumBatchSize = 3
    }

    private static func createPublishKey(_ server: TestServer) async throws -> TestHTTP {
        TestHTTP(baseURL: server.baseURL, key: try await server.addAPIKey(name: "limited", scopes: ["publish:*"]))
    }

    private static let event = #"{"type":"test","data":{}}"#

    @Test("A key past its burst gets 429 rate_limited with Retry-After, and only the admitted events are stored")
    func keyRate() async throws {
        // Time stands still until the test moves it: exactly the burst is admitted, however slow the machine.
        let clock = ManualClock()
        try await TestServer.with(configure: Self.limited, ambient: clock.ambient) { server in
            let publisher = try await Self.createPublishKey(server)
            var statuses: [Int] = []
            for _ in 0..<4 {
                statuses.append(
                    try await publisher.request("POST", "/v1/channels/orders/events", body: Self.event).status
                )
            }
            #expect(statuses == [201, 201, 201, 429])
            let refusal = try await publisher.request("POST", "/v1/channels/orders/events", body: Self.event)
            refusal.expectProblem("rate_limited")
            #expect(refusal.headers["retry-after"] == "1", "headers: \(refusal.headers)")
            #expect(try await TestHTTP(server).storedEvents("orders").count == 3)
            // A second later one token is back: one more publish, then refused again.
            await clock.advance(by: .seconds(1))
            #expect(try await publisher.request("POST", "/v1/channels/orders/events", body: Self.event).status == 201)
            #expect(try await publisher.request("POST", "/v1/channels/orders/events", body: Self.event).status == 429)
            #expect(try await TestHTTP(server).storedEvents("orders").count == 4)
            // The admin key has its own bucket.
            #expect(try await TestHTTP(server).publish("other")["offset"]?.intValue == 1)
        }
    }

    @Test("A batch larger than the key's remaining tokens is refused whole with 429 and nothing from it is stored")
    func batchOverRemainingTokens() async throws {
        let clock = ManualClock()
        try await TestServer.with(configure: Self.limited, ambient: clock.ambient) { server in
            let publisher = try await Self.createPublishKey(server)
            for _ in 0..<2 {
                let response = try await publisher.request("POST", "/v1/channels/orders/events", body: Self.event)
                #expect(response.status == 201, "body: \(response.body)")
            }
            let batch = #"""
                {"events":[{"channel":"batch","type":"a","data":{}},{"channel":"batch","type":"b","data":{}},
                {"channel":"batch","type":"c","data":{}}]}
                """#
            let refused = try await publisher.request("POST", "/v1/events", body: batch)
            refused.expectProblem("rate_limited")
            #expect(refused.headers["retry-after"] != nil, "headers: \(refused.headers)")
            let admin = TestHTTP(server)
            #expect(try await admin.storedEvents("batch").isEmpty)
            #expect(try await admin.storedEvents("orders").count == 2)
        }
    }

    @Test("A body over maximumRequestBytes is refused with 413 too_large and nothing is stored")
    func requestTooLarge() async throws {
        try await TestServer.with(configure: { $0.engine.limits.maximumRequestBytes = 2048 }) { server in
            let admin = TestHTTP(server)
            let padding = String(repeating: "x", count: 4096)
            let body = #"{"type":"test","data":{"padding":"\#(padding)"}}"#
            let refused = try await admin.request("POST", "/v1/channels/orders/events", body: body)
            refused.expectProblem("too_large")
            let batch = #"{"events":[{"channel":"orders","type":"test","data":{"padding":"\#(padding)"}}]}"#
            let refusedBatch = try await admin.request("POST", "/v1/events", body: batch)
            refusedBatch.expectProblem("too_large")
            #expect(try await admin.storedEvents("orders").isEmpty)
            // A body under the limit is accepted.
            #expect(try await admin.publish("orders")["offset"]?.intValue == 1)
        }
    }
}

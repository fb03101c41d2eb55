public import SwitchboardCore
public import SwitchboardStore

extension Endpoint {
    /// An enabled endpoint for store tests: `https://example.com/hooks`, subscribed to `channels`.
    public static func test(
        _ id: String,
        channels: String = "orders",
        ordered: Bool = false,
        at time: Timestamp
    ) throws -> Endpoint {
        var generator = RandomBitsGenerator.system
        return Endpoint(
            id: id,
            settings: EndpointSettings(
                url: "https://example.com/hooks",
                filter: try EndpointFilter(channels: [NamePattern(channels)], types: []),
                isOrdered: ordered
            ),
            signingKey: .hmac(WebhookSecret.random(using: &generator)),
            created: time,
            updated: time
        )
    }
}

extension AttemptResult {
    /// The next attempt of `delivery` at `time`: a 200 when it `succeeded`, a 500 otherwise.
    public static func test(
        _ delivery: ClaimedDelivery,
        status: DeliveryStatus,
        at time: Timestamp,
        next: Timestamp? = nil
    ) -> AttemptResult {
        AttemptResult(
            delivery: delivery,
            attempt: AttemptRecord(
                number: delivery.attemptsMade + 1,
                time: time,
                status: status == .succeeded ? 200 : 500,
                latencyMilliseconds: 3,
                error: nil,
                responseHeaders: [],
                responseBody: nil
            ),
            status: status,
            nextAttempt: next
        )
    }
}

extension DeliveryQueue {
    /// Records `results` at `now`, disabling endpoints only after a day of failures.
    @discardableResult
    public func record(_ results: [AttemptResult], now: Timestamp) async throws -> [DisabledEndpoint] {
        try await record(results, now: now, disableFailingAfter: .seconds(86_400))
    }
}

import Testing

@testable import SwitchboardCore

/// Every branch of a delivery's lifecycle after one attempt, without a network.
@Suite("Delivery decision")
struct DeliveryDecisionTests {
    private let time = Timestamp(millisecondsSinceEpoch: 1_800_000_000_000)
    private let schedule = RetrySchedule(delays: [.zero, .seconds(5), .seconds(300)], jitter: 0)

    private func decide(
        _ status: Int?,
        retryAfter: Duration? = nil,
        retained: Bool = true,
        attemptsInRound: Int = 0
    ) -> DeliveryDecision {
        var generator = RandomBitsGenerator.system
        return DeliveryDecision.after(
            attemptAt: time,
            httpStatus: status,
            retryAfter: retryAfter,
            isEventRetained: retained,
            attemptsInRound: attemptsInRound,
            schedule: schedule,
            using: &generator
        )
    }

    @Test("Any 2xx succeeds", arguments: [200, 201, 204, 299])
    func success(status: Int) {
        #expect(decide(status) == DeliveryDecision(status: .succeeded, nextAttempt: nil, disablesEndpoint: nil))
    }

    @Test("A failure is retried on the schedule", arguments: [nil, 300, 404, 500, 503] as [Int?])
    func failureRetries(status: Int?) {
        let decision = decide(status)
        #expect(decision.status == .failed)
        #expect(decision.nextAttempt == Timestamp(millisecondsSinceEpoch: time.millisecondsSinceEpoch + 5000))
        #expect(decision.disablesEndpoint == nil)
    }

    @Test("A longer Retry-After wins over the schedule; a shorter one does not")
    func retryAfter() {
        #expect(
            decide(429, retryAfter: .seconds(60)).nextAttempt?.millisecondsSinceEpoch == time.millisecondsSinceEpoch
                + 60_000
        )
        #expect(
            decide(503, retryAfter: .seconds(1)).nextAttempt?.millisecondsSinceEpoch == time.millisecondsSinceEpoch
                + 5000
        )
    }

    @Test("With no attempt left the delivery is dead")
    func exhausted() {
        #expect(decide(500, attemptsInRound: 1).status == .failed)
        #expect(
            decide(500, attemptsInRound: 2) == DeliveryDecision(status: .dead, nextAttempt: nil, disablesEndpoint: nil)
        )
    }

    @Test("An event no longer retained is dead at once")
    func notRetained() {
        #expect(decide(nil, retained: false).status == .dead)
    }

    @Test("410 Gone disables the endpoint, retried or dead")
    func gone() {
        #expect(decide(410).status == .failed)
        #expect(decide(410).disablesEndpoint != nil)
        #expect(decide(410, attemptsInRound: 2).disablesEndpoint != nil)
    }
}

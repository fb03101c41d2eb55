import Testing

@testable import SwitchboardCore

@Suite("Token bucket")
struct TokenBucketTests {
    @Test("A full bucket gives its burst, then refills at its rate")
    func burstThenRate() {
        let start = ContinuousClock.now
        var bucket = TokenBucket(rate: 10, burst: 3, now: start)
        let taken1 = bucket.take(at: start) && bucket.take(at: start) && bucket.take(at: start)
        #expect(taken1)
        let taken2 = !bucket.take(at: start)
        #expect(taken2)
        #expect(bucket.retryAfterSeconds() == 1)
        let taken3 = !bucket.take(at: start + .milliseconds(50))
        #expect(taken3)
        let taken4 = bucket.take(at: start + .milliseconds(100))
        #expect(taken4)
        // Never more than the burst, however long it waits.
        let taken5 = !bucket.take(4, at: start + .seconds(60))
        #expect(taken5)
        let taken6 = bucket.take(3, at: start + .seconds(60))
        #expect(taken6)
    }

    @Test("Taking more than there is takes nothing")
    func allOrNothing() {
        let start = ContinuousClock.now
        var bucket = TokenBucket(rate: 1, burst: 5, now: start)
        let taken7 = !bucket.take(6, at: start)
        #expect(taken7)
        #expect(bucket.tokens == 5)
        let taken8 = bucket.take(5, at: start)
        #expect(taken8)
        #expect(bucket.retryAfterSeconds(for: 2) == 2)
        #expect(bucket.wait(for: 1) == .seconds(1))
    }
}

import NIOConcurrencyHelpers
import SwitchboardCore

/// Events a second per API key, over every request and connection of this server: a token bucket per
/// key, with a burst of one second's worth (and at least one full batch, so a batch at the limit fits).
final class KeyRateLimiter: Sendable {
    private let rate: Int
    private let burst: Int
    private let buckets = NIOLockedValueBox([String: TokenBucket]())
    private let clock: @Sendable () -> ContinuousClock.Instant

    /// `rate` events a second per key (0: no limit), timed by `clock`.
    init(rate: Int, largestBatch: Int, clock: @escaping @Sendable () -> ContinuousClock.Instant) {
        self.rate = rate
        self.burst = max(rate, largestBatch)
        self.clock = clock
    }

    /// Takes `count` events' worth for `principal`'s key; `rate_limited` with `Retry-After` when the key
    /// is over its rate. Principals without a key (development mode) are not limited here.
    func take(_ count: Int, for principal: Principal) throws(SwitchboardError) {
        guard rate > 0, let key = principal.keyID else { return }
        let now = clock()
        let retryAfter = buckets.withLockedValue { buckets -> Int? in
            var bucket = buckets[key] ?? TokenBucket(rate: Double(rate), burst: Double(burst), now: now)
            defer { buckets[key] = bucket }
            return bucket.take(Double(count), at: now) ? nil : bucket.retryAfterSeconds(for: Double(count))
        }
        if let retryAfter {
            throw SwitchboardError(
                .rateLimited,
                "this key may publish at most \(rate) events a second",
                retryAfterSeconds: retryAfter
            )
        }
    }
}

/// A rate limit as a token bucket: `rate` tokens a second, holding at most `burst`. A plain value: its
/// owner keeps it where it keeps the rest of its state (a connection's event loop, a lock).
public struct TokenBucket: Sendable {
    /// Tokens added per second.
    public let rate: Double
    /// Most tokens held.
    public let burst: Double
    /// Tokens now (as of `refilledAt`).
    public private(set) var tokens: Double
    private var refilledAt: ContinuousClock.Instant

    /// A full bucket.
    public init(rate: Double, burst: Double, now: ContinuousClock.Instant) {
        self.rate = max(rate, 0)
        self.burst = max(burst, 1)
        self.tokens = self.burst
        self.refilledAt = now
    }

    /// Adds what has accrued since the last refill.
    public mutating func refill(at now: ContinuousClock.Instant) {
        let elapsed = now - refilledAt
        guard elapsed > .zero else { return }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        tokens = min(burst, tokens + seconds * rate)
        refilledAt = now
    }

    /// Takes `count` tokens if there are that many, otherwise takes none.
    public mutating func take(_ count: Double = 1, at now: ContinuousClock.Instant) -> Bool {
        refill(at: now)
        guard tokens >= count else { return false }
        tokens -= count
        return true
    }

    /// How long until `count` tokens are there (zero when they already are).
    public func wait(for count: Double = 1) -> Duration {
        guard tokens < count, rate > 0 else { return .zero }
        return .seconds((count - tokens) / rate)
    }

    /// Whole seconds until `count` tokens are there, at least 1: the `Retry-After` of a refusal.
    public func retryAfterSeconds(for count: Double = 1) -> Int {
        guard rate > 0 else { return 1 }
        return max(1, Int(((count - tokens) / rate).rounded(.up)))
    }
}

/// How long to wait before reconnect attempt `n`: exponential backoff with "equal jitter"
/// (half fixed, half random), capped.
public struct ReconnectPolicy: Sendable, Equatable {
    /// The first delay.
    public var initialDelay: Duration
    /// The longest delay.
    public var maximumDelay: Duration

    /// Makes a policy.
    public init(initialDelay: Duration = .milliseconds(200), maximumDelay: Duration = .seconds(10)) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
    }

    /// The delay before attempt `attempt` (0-based), drawn with `generator`.
    public func delay(attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let exponent = min(attempt, 16)
        let capped = min(initialDelay * (1 << exponent), maximumDelay)
        let half = capped / 2
        let jitter = Double.random(in: 0...1, using: &generator)
        return half + half * jitter
    }
}

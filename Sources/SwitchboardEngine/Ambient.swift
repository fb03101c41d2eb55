import FoundationEssentials
public import SwitchboardCore

/// What the engine and the server read from the world: the wall clock (event times, expiries), a
/// monotonic clock (rates, caches) and randomness (ids, keys, secrets, jitter). Injected at the
/// composition root, so that tests hold time still, move it by hand and need no sleep.
public struct Ambient: Sendable {
    /// The current wall-clock time.
    public let wallClock: @Sendable () -> Timestamp
    /// The current instant of a clock that never goes back.
    public let monotonicClock: @Sendable () -> ContinuousClock.Instant
    /// 64 random bits (cryptographically secure in `system`).
    public let randomBits: @Sendable () -> UInt64

    /// Makes an ambient from its sources.
    public init(
        wallClock: @escaping @Sendable () -> Timestamp,
        monotonicClock: @escaping @Sendable () -> ContinuousClock.Instant,
        randomBits: @escaping @Sendable () -> UInt64
    ) {
        self.wallClock = wallClock
        self.monotonicClock = monotonicClock
        self.randomBits = randomBits
    }

    /// The machine's clocks and its secure random source.
    public static let system = Ambient(
        wallClock: {
            Timestamp(millisecondsSinceEpoch: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
        },
        monotonicClock: { ContinuousClock.now },
        randomBits: {
            var generator = SystemRandomNumberGenerator()
            return generator.next()
        }
    )

    /// A generator drawing from `randomBits`.
    public var randomNumberGenerator: AmbientRandomNumberGenerator {
        AmbientRandomNumberGenerator(randomBits: randomBits)
    }
}

/// A `RandomNumberGenerator` over an `Ambient`'s random source.
public struct AmbientRandomNumberGenerator: RandomNumberGenerator {
    let randomBits: @Sendable () -> UInt64

    /// A generator over `randomBits`.
    public init(randomBits: @escaping @Sendable () -> UInt64) {
        self.randomBits = randomBits
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        randomBits()
    }
}

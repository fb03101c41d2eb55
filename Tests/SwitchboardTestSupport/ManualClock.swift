import NIOConcurrencyHelpers
public import SwitchboardCore
public import SwitchboardEngine

/// A monotonic clock that stands still until a test moves it, for rates and caches decided by time:
/// a test says how much time passes instead of waiting for it, so a busy machine changes nothing.
public final class ManualClock: Sendable {
    private let elapsed = NIOLockedValueBox(Duration.zero)
    private let origin = ContinuousClock.now

    public init() {}

    /// The clock's current instant.
    public var now: ContinuousClock.Instant {
        origin + elapsed.withLockedValue { $0 }
    }

    /// Moves the clock forward by `duration`.
    public func advance(by duration: Duration) {
        elapsed.withLockedValue { $0 += duration }
    }

    /// The machine's wall clock and randomness, with this clock as the monotonic one.
    public var ambient: Ambient {
        Ambient(
            wallClock: Ambient.system.wallClock,
            monotonicClock: { self.now },
            randomBits: Ambient.system.randomBits
        )
    }
}

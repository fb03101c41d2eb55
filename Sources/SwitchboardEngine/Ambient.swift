import FoundationEssentials
public import NIOCore
public import SwitchboardCore

/// What the engine and the server read from the world: the wall clock (event times, expiries), a
/// monotonic clock (rates, caches), deadlines on that clock, and randomness (ids, keys, secrets,
/// jitter); and where the engine says it changed state a test may be waiting for (`report`).
/// Injected at the composition root, so that tests hold time still, move it by hand, and wait for a
/// deadline to be set or a state to change instead of sleeping.
public struct Ambient: Sendable {
    /// The current wall-clock time.
    public let wallClock: @Sendable () -> Timestamp
    /// The current instant of a clock that never goes back.
    public let monotonicClock: @Sendable () -> ContinuousClock.Instant
    /// Runs a task on an event loop once `delay` of the monotonic clock has passed (see `deadline`).
    public let scheduler:
        @Sendable (DeadlineKind, TimeAmount, any EventLoop, @escaping @Sendable () -> Void) ->
            any Deadline
    /// 64 random bits (cryptographically secure in `system`).
    public let randomBits: @Sendable () -> UInt64
    /// Told each time the engine finished a piece of background work whose result a client can then
    /// read (nothing in `system`).
    public let report: @Sendable (Activity) -> Void

    /// Makes an ambient from its sources.
    public init(
        wallClock: @escaping @Sendable () -> Timestamp,
        monotonicClock: @escaping @Sendable () -> ContinuousClock.Instant,
        scheduler:
            @escaping @Sendable (DeadlineKind, TimeAmount, any EventLoop, @escaping @Sendable () -> Void) ->
            any Deadline,
        randomBits: @escaping @Sendable () -> UInt64,
        report: @escaping @Sendable (Activity) -> Void = { _ in }
    ) {
        self.wallClock = wallClock
        self.monotonicClock = monotonicClock
        self.scheduler = scheduler
        self.randomBits = randomBits
        self.report = report
    }

    /// The same ambient, also telling `observer` of every activity.
    public func reporting(to observer: @escaping @Sendable (Activity) -> Void) -> Ambient {
        let report = report
        return Ambient(
            wallClock: wallClock,
            monotonicClock: monotonicClock,
            scheduler: scheduler,
            randomBits: randomBits,
            report: { activity in
                report(activity)
                observer(activity)
            }
        )
    }

    /// Runs `task` on `loop` once `delay` has passed; `kind` says what the deadline is for.
    public func deadline(
        _ kind: DeadlineKind,
        in delay: TimeAmount,
        on loop: any EventLoop,
        _ task: @escaping @Sendable () -> Void
    ) -> any Deadline {
        scheduler(kind, delay, loop, task)
    }

    /// The machine's clocks, NIO's timers and its secure random source.
    public static let system = Ambient(
        wallClock: {
            Timestamp(millisecondsSinceEpoch: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
        },
        monotonicClock: { ContinuousClock.now },
        scheduler: { _, delay, loop, task in loop.scheduleTask(in: delay, task) },
        randomBits: RandomBitsGenerator.systemRandomBits
    )

    /// A generator drawing from `randomBits`.
    public var randomNumberGenerator: RandomBitsGenerator {
        RandomBitsGenerator(randomBits: randomBits)
    }
}

/// What a deadline is for. The server ignores it; a test waits for a deadline of a kind to be set
/// before it moves its clock past it.
public enum DeadlineKind: Hashable, Sendable {
    /// A plain HTTP connection owes a request head (new or kept alive).
    case requestHead
    /// A closing WebSocket or SSE stream must take its last bytes.
    case close
    /// A long-poll waits for an event.
    case longPoll
    /// A subscription waits before reading the log again after a failed read.
    case catchUpRetry
}

/// Background work the engine finished, whose result a client can now read.
public enum Activity: Hashable, Sendable {
    /// A webhook attempt was recorded (with its delivery's new state and the endpoint's health).
    case webhookAttemptRecorded
    /// An event was published on `$system`.
    case systemEventPublished
    /// A node sharing its store was told to catch up on every channel it follows: its doorbell
    /// listener is listening (again).
    case clusterCatchUp
    /// A node sharing its store recorded joins or leaves there (its own, or a dead node's it reaped),
    /// and published the journal: listings on every node show them.
    case presenceRecorded
}

/// A pending deadline.
public protocol Deadline: Sendable {
    /// Stops the deadline's task from running, if it has not run yet.
    func cancel()
}

extension Scheduled: Deadline {}

import NIOConcurrencyHelpers
public import NIOCore
public import SwitchboardCore
public import SwitchboardEngine

/// A monotonic clock that stands still until a test moves it, with the deadlines set on it: a test says
/// how much time passes instead of waiting for it, and waits for the server to set a deadline (an
/// event) before it moves the clock past it, so a busy machine changes nothing.
public final class ManualClock: Sendable {
    private struct Pending: Sendable {
        let id: Int
        let kind: DeadlineKind
        let due: Duration
        let loop: any EventLoop
        let task: @Sendable () -> Void
    }

    private struct State {
        var elapsed = Duration.zero
        var pending: [Pending] = []
        var nextID = 0
        /// Tests waiting for a deadline of a kind to be set (due no later than `latestDue`, when given).
        var watchers: [(kind: DeadlineKind, latestDue: Duration?, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = NIOLockedValueBox(State())
    private let origin = ContinuousClock.now

    public init() {}

    /// The clock's current instant.
    public var now: ContinuousClock.Instant {
        origin + state.withLockedValue { $0.elapsed }
    }

    /// Moves the clock forward by `duration`, then runs every deadline that came due, in order, each on
    /// its event loop, and returns once they ran.
    public func advance(by duration: Duration) async {
        let due = state.withLockedValue { state -> [Pending] in
            state.elapsed += duration
            let now = state.elapsed
            let due = state.pending.filter { $0.due <= now }.sorted { ($0.due, $0.id) < ($1.due, $1.id) }
            state.pending.removeAll { $0.due <= now }
            return due
        }
        for deadline in due {
            try? await deadline.loop.submit(deadline.task).get()
        }
    }

    /// Returns once a deadline of `kind` is pending (at once when one is); with `within`, one that comes
    /// due no later than that from now (a shorter deadline set after a longer one, say).
    public func waitForDeadline(_ kind: DeadlineKind, within: Duration? = nil) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let isPending = state.withLockedValue { state -> Bool in
                let latestDue = within.map { state.elapsed + $0 }
                let isDue = { (pending: Pending) in
                    pending.kind == kind && (latestDue.map { pending.due <= $0 } ?? true)
                }
                if state.pending.contains(where: isDue) { return true }
                state.watchers.append((kind, latestDue, continuation))
                return false
            }
            if isPending { continuation.resume() }
        }
    }

    /// The machine's wall clock and randomness, with this clock as the monotonic one and its deadlines.
    public var ambient: Ambient {
        Ambient(
            wallClock: Ambient.system.wallClock,
            monotonicClock: { self.now },
            scheduler: { kind, delay, loop, task in self.schedule(kind, in: delay, on: loop, task) },
            randomBits: Ambient.system.randomBits,
            report: Ambient.system.report
        )
    }

    private func schedule(
        _ kind: DeadlineKind,
        in delay: TimeAmount,
        on loop: any EventLoop,
        _ task: @escaping @Sendable () -> Void
    ) -> any Deadline {
        let (id, woken) = state.withLockedValue { state -> (Int, [CheckedContinuation<Void, Never>]) in
            state.nextID += 1
            let due = state.elapsed + .nanoseconds(delay.nanoseconds)
            state.pending.append(Pending(id: state.nextID, kind: kind, due: due, loop: loop, task: task))
            let wakes = {
                (watcher: (kind: DeadlineKind, latestDue: Duration?, continuation: CheckedContinuation<Void, Never>)) in
                watcher.kind == kind && (watcher.latestDue.map { due <= $0 } ?? true)
            }
            let woken = state.watchers.filter(wakes).map(\.continuation)
            state.watchers.removeAll(where: wakes)
            return (state.nextID, woken)
        }
        for continuation in woken { continuation.resume() }
        return ManualDeadline { [weak self] in
            self?.state.withLockedValue { $0.pending.removeAll { $0.id == id } }
        }
    }
}

/// A deadline of a `ManualClock`.
private struct ManualDeadline: Deadline {
    let onCancel: @Sendable () -> Void

    func cancel() {
        onCancel()
    }
}

import Synchronization

/// Something changed that a test may be waiting to see: a test server's engine reported background
/// work done (`Ambient.Activity`), or a test webhook receiver took a request. One signal for the whole
/// test process; a test waiting for its own condition re-checks it on every change, so a change made
/// by another test running alongside only costs it one more check.
public enum TestActivity {
    private struct State {
        var generation = 0
        var nextWaiter = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private static let state = Mutex(State())

    /// Counts the changes so far; pass it to `wait(after:)`.
    public static var generation: Int { state.withLock { $0.generation } }

    /// Records a change and wakes every waiter.
    public static func changed() {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.generation += 1
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in woken { waiter.resume() }
    }

    /// Returns once there was a change after `generation` (at once if there was one already), or the
    /// task is cancelled (a suite's time limit).
    public static func wait(after generation: Int) async {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.generation > generation || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Waits until `probe` returns a value, checking it again after every change; throws
    /// `TestServerError` naming `what` when the task is cancelled first.
    public static func eventually<T>(_ what: String, _ probe: () async throws -> T?) async throws -> T {
        while true {
            let seen = generation
            if let value = try await probe() { return value }
            await wait(after: seen)
            if Task.isCancelled { throw TestServerError("cancelled while waiting for \(what)") }
        }
    }
}

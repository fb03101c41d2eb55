import NIOConcurrencyHelpers

/// A one-shot doorbell for a long-poll: rung when its channel gets a new event, or cancelled.
public final class ChannelWaiter: Sendable {
    private enum State {
        case waiting(CheckedContinuation<Void, Never>?)
        case rung
    }

    private let state = NIOLockedValueBox(State.waiting(nil))

    init() {}

    /// Rings the bell (idempotent).
    func ring() {
        let continuation = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            guard case .waiting(let continuation) = state else { return nil }
            state = .rung
            return continuation
        }
        continuation?.resume()
    }

    /// Waits until rung, the timeout passes, or the task is cancelled.
    public func wait(timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let resumeNow = self.state.withLockedValue { state -> Bool in
                            guard case .waiting = state else { return true }
                            state = .waiting(continuation)
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    self.ring()
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
            }
            await group.next()
            group.cancelAll()
        }
    }
}

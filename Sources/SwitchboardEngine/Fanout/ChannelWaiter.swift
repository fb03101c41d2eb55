import NIOConcurrencyHelpers
public import NIOCore
import NIOPosix

/// A one-shot doorbell for a long-poll: rung when its channel gets a new event, or cancelled.
public final class ChannelWaiter: Sendable {
    private enum State {
        case waiting(CheckedContinuation<Void, Never>?)
        case rung
    }

    private let state = NIOLockedValueBox(State.waiting(nil))

    init() {}

    /// Whether the bell was rung (by an event, a cancellation or the timeout).
    var isRung: Bool {
        state.withLockedValue { state in
            if case .rung = state { return true }
            return false
        }
    }

    /// Rings the bell (idempotent).
    func ring() {
        let continuation = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            guard case .waiting(let continuation) = state else { return nil }
            state = .rung
            return continuation
        }
        continuation?.resume()
    }

    /// Waits until rung, `timeout` of `ambient`'s clock passes (a `longPoll` deadline rings it), or
    /// the task is cancelled.
    public func wait(timeout: TimeAmount, ambient: Ambient) async {
        let deadline = ambient.deadline(.longPoll, in: timeout, on: MultiThreadedEventLoopGroup.singleton.any()) {
            self.ring()
        }
        defer { deadline.cancel() }
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
}

import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Messages a test client received and has not taken yet, with at most one waiting reader and a
/// timeout, so tests wait on events rather than sleeping.
final class TestInbox<Element: Sendable>: Sendable {
    private struct State {
        var items: [Element] = []
        var isFinished = false
        var waiter: (id: Int, continuation: CheckedContinuation<Element?, Never>)?
        var nextID = 0
    }

    private let state = NIOLockedValueBox(State())

    /// Hands `item` to the waiting reader, or keeps it.
    func push(_ item: Element) {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Element?, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter.continuation
            }
            state.items.append(item)
            return nil
        }
        waiter?.resume(returning: item)
    }

    /// No more items will come.
    func finish() {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Element?, Never>? in
            state.isFinished = true
            defer { state.waiter = nil }
            return state.waiter?.continuation
        }
        waiter?.resume(returning: nil)
    }

    /// The next item, or nil when finished or when `timeout` passed.
    func next(timeout: TimeAmount) async -> Element? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Element?, Never>) in
            let (immediate, id) = state.withLockedValue { state -> (Element??, Int) in
                if !state.items.isEmpty { return (.some(state.items.removeFirst()), 0) }
                if state.isFinished { return (.some(nil), 0) }
                state.nextID += 1
                state.waiter = (state.nextID, continuation)
                return (nil, state.nextID)
            }
            if let immediate { return continuation.resume(returning: immediate) }
            MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: timeout) {
                let expired = self.state.withLockedValue { state -> CheckedContinuation<Element?, Never>? in
                    guard let waiter = state.waiter, waiter.id == id else { return nil }
                    state.waiter = nil
                    return waiter.continuation
                }
                expired?.resume(returning: nil)
            }
        }
    }
}

extension ByteBuffer {
    /// Reads an HTTP response head (up to the blank line) off the front, or nil while it is incomplete.
    mutating func readHTTPResponseHead() -> String? {
        guard let text = getString(at: readerIndex, length: readableBytes), let end = text.range(of: "\r\n\r\n")
        else { return nil }
        moveReaderIndex(forwardBy: text.utf8.distance(from: text.startIndex, to: end.upperBound))
        return String(text[..<end.lowerBound])
    }
}

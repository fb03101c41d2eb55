import NIOCore

/// What a new connection turned out to be, settled once on its event loop: by the HTTP upgrade
/// handler (a WebSocket, or plain HTTP for the router) or by the SSE handler taking the first request
/// as a stream. Whichever settles first wins; later settlements are ignored.
///
/// The connection's task waits on `future` and ends as soon as the connection lives on in a NIO
/// handler of its own (a WebSocket, an SSE stream), so such connections keep no suspended task.
struct ConnectionOutcome<Value: Sendable>: Sendable {
    let future: EventLoopFuture<Value>
    private let promise: EventLoopPromise<Value>
    private let isSettled: NIOLoopBoundBox<Bool>

    init(eventLoop: any EventLoop) {
        promise = eventLoop.makePromise(of: Value.self)
        future = promise.futureResult
        isSettled = NIOLoopBoundBox(false, eventLoop: eventLoop)
    }

    /// Settles the outcome unless it already is; call on the connection's event loop.
    func settle(_ result: Result<Value, any Error>) {
        guard !isSettled.value else { return }
        isSettled.value = true
        promise.completeWith(result)
    }

    /// Settles the outcome with `other`'s result once it has one (unless settled before).
    func settle(with other: EventLoopFuture<Value>) {
        other.hop(to: future.eventLoop).whenComplete { result in self.settle(result) }
    }
}

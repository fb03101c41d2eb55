import Testing

@testable import SwitchboardServer

/// The wait for a request head, without sockets.
@Suite("Request head wait")
struct RequestHeadWaitTests {
    private func run(_ events: [RequestHeadWait.Event]) -> [RequestHeadWait.Action] {
        var wait = RequestHeadWait()
        return events.map { wait.event($0) }
    }

    @Test("A new connection waits with the request-head deadline; a head stops the wait and starts the body's")
    func newConnection() {
        #expect(
            run([.opened, .headReceived, .requestReceived]) == [
                .startWaiting(.requestHead), .awaitRequestBody, .stopWaiting,
            ]
        )
    }

    @Test("After each response a kept-alive connection waits with the idle deadline")
    func keepAlive() {
        let actions = run([
            .opened, .headReceived, .requestReceived, .responseEnded, .headReceived, .requestReceived, .responseEnded,
        ])
        #expect(
            actions == [
                .startWaiting(.requestHead), .awaitRequestBody, .stopWaiting, .startWaiting(.idle), .awaitRequestBody,
                .stopWaiting, .startWaiting(.idle),
            ]
        )
    }

    @Test("A head that never completes (nothing sent, or a byte at a time) closes the connection at the deadline")
    func slowloris() {
        #expect(
            run([.opened, .deadlinePassed, .headReceived]) == [.startWaiting(.requestHead), .closeConnection, .none]
        )
        #expect(
            run([.opened, .headReceived, .requestReceived, .responseEnded, .deadlinePassed])
                == [
                    .startWaiting(.requestHead), .awaitRequestBody, .stopWaiting, .startWaiting(.idle),
                    .closeConnection,
                ]
        )
    }

    @Test("A body that never completes closes the connection at the body deadline")
    func slowBody() {
        #expect(
            run([.opened, .headReceived, .deadlinePassed, .requestReceived]) == [
                .startWaiting(.requestHead), .awaitRequestBody, .closeConnection, .none,
            ]
        )
    }

    @Test("A request answered before its body is complete (a refusal) leaves the connection waiting for the next head")
    func answeredBeforeTheBody() {
        #expect(
            run([.opened, .headReceived, .responseEnded, .requestReceived, .headReceived]) == [
                .startWaiting(.requestHead), .awaitRequestBody, .startWaiting(.idle), .none, .awaitRequestBody,
            ]
        )
    }

    @Test("A request in progress (a long-poll, an SSE stream) has no deadline")
    func servingHasNoDeadline() {
        #expect(
            run([.opened, .headReceived, .requestReceived, .deadlinePassed]) == [
                .startWaiting(.requestHead), .awaitRequestBody, .stopWaiting, .none,
            ]
        )
    }

    @Test("Closing while waiting stops the wait once; closing while serving does nothing more")
    func closing() {
        #expect(
            run([.opened, .closed, .closed, .deadlinePassed]) == [
                .startWaiting(.requestHead), .stopWaiting, .none, .none,
            ]
        )
        #expect(
            run([.opened, .headReceived, .requestReceived, .closed, .responseEnded]) == [
                .startWaiting(.requestHead), .awaitRequestBody, .stopWaiting, .none, .none,
            ]
        )
    }
}

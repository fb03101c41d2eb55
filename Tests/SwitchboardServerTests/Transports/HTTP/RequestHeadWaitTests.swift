import Testing

@testable import SwitchboardServer

/// The wait for a request head, without sockets.
@Suite("Request head wait")
struct RequestHeadWaitTests {
    private func run(_ events: [RequestHeadWait.Event]) -> [RequestHeadWait.Action] {
        var wait = RequestHeadWait()
        return events.map { wait.event($0) }
    }

    @Test("A new connection waits with the request-head deadline; a head stops the wait")
    func newConnection() {
        #expect(run([.opened, .headReceived]) == [.startWaiting(.requestHead), .stopWaiting])
    }

    @Test("After each response a kept-alive connection waits with the idle deadline")
    func keepAlive() {
        let actions = run([.opened, .headReceived, .responseEnded, .headReceived, .responseEnded])
        #expect(
            actions == [
                .startWaiting(.requestHead), .stopWaiting, .startWaiting(.idle), .stopWaiting, .startWaiting(.idle),
            ]
        )
    }

    @Test("A head that never completes (nothing sent, or a byte at a time) closes the connection at the deadline")
    func slowloris() {
        #expect(
            run([.opened, .deadlinePassed, .headReceived]) == [.startWaiting(.requestHead), .closeConnection, .none]
        )
        #expect(
            run([.opened, .headReceived, .responseEnded, .deadlinePassed])
                == [.startWaiting(.requestHead), .stopWaiting, .startWaiting(.idle), .closeConnection]
        )
    }

    @Test("A request in progress (a long-poll, an SSE stream) has no deadline")
    func servingHasNoDeadline() {
        #expect(run([.opened, .headReceived, .deadlinePassed]) == [.startWaiting(.requestHead), .stopWaiting, .none])
    }

    @Test("Closing while waiting stops the wait once; closing while serving does nothing more")
    func closing() {
        #expect(
            run([.opened, .closed, .closed, .deadlinePassed]) == [
                .startWaiting(.requestHead), .stopWaiting, .none, .none,
            ]
        )
        #expect(
            run([.opened, .headReceived, .closed, .responseEnded]) == [
                .startWaiting(.requestHead), .stopWaiting, .none, .none,
            ]
        )
    }
}

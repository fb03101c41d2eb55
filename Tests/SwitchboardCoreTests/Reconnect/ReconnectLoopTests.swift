import SwitchboardCore
import Testing

/// The reconnect loop's decisions, without sockets or sleeps.
@Suite("Reconnect loop")
struct ReconnectLoopTests {
    private func run(_ events: [ReconnectLoop.Event]) -> (actions: [ReconnectLoop.Action], state: ReconnectLoop.State) {
        var loop = ReconnectLoop()
        let actions = events.map { loop.event($0) }
        return (actions, loop.state)
    }

    @Test("Failures before opening wait longer each time; reconnects report reconnecting")
    func backoffGrows() {
        let result = run([
            .start, .connectionEnded(isFatal: false), .backoffElapsed, .connectionEnded(isFatal: false),
            .backoffElapsed,
        ])
        #expect(
            result.actions == [
                .connect(isReconnect: false), .wait(attempt: 0), .connect(isReconnect: true), .wait(attempt: 1),
                .connect(isReconnect: true),
            ]
        )
        #expect(result.state == .connecting(attempt: 2))
    }

    @Test("A connection that opened resets the backoff")
    func openResets() {
        let result = run([
            .start, .connectionEnded(isFatal: false), .backoffElapsed, .opened, .connectionEnded(isFatal: false),
        ])
        #expect(result.actions.last == .wait(attempt: 0))
    }

    @Test("A fatal refusal ends the loop, open or not; nothing happens after")
    func fatalEnds() {
        #expect(
            run([.start, .connectionEnded(isFatal: true), .backoffElapsed]).actions == [
                .connect(isReconnect: false), .close, .none,
            ]
        )
        #expect(run([.start, .opened, .connectionEnded(isFatal: true)]).state == .closed)
    }

    @Test("Cancellation ends the loop from any state, once")
    func cancellation() {
        #expect(run([.start, .cancelled, .cancelled]).actions == [.connect(isReconnect: false), .close, .none])
        #expect(run([.start, .connectionEnded(isFatal: false), .cancelled]).actions.last == .close)
        #expect(run([.cancelled]).actions == [.close])
    }

    @Test("Stray events change nothing")
    func strayEvents() {
        let result = run([.opened, .backoffElapsed, .connectionEnded(isFatal: false)])
        #expect(result.actions == [.none, .none, .none])
        #expect(result.state == .idle)
    }
}

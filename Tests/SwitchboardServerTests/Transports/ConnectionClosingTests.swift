import Testing

@testable import SwitchboardServer

/// Every close path of a connection, without sockets.
@Suite("Connection closing")
struct ConnectionClosingTests {
    private typealias Event = ConnectionClosing.Event
    private typealias Action = ConnectionClosing.Action

    private func run(_ events: [Event]) -> (actions: [Action], state: ConnectionClosing.State) {
        var machine = ConnectionClosing()
        let actions = events.map { machine.event($0) }
        return (actions, machine.state)
    }

    @Test("Ours: goodbye, then the socket closes once it is written, then the limits are released")
    func ourClose() {
        let result = run([.close, .goodbyeWritten, .socketClosed])
        #expect(result.actions == [.sayGoodbye, .closeSocket, .release])
        #expect(result.state == .closed)
    }

    @Test("Ours, to a peer that never reads: the deadline closes the socket")
    func deadline() {
        #expect(run([.close, .deadline, .socketClosed]).actions == [.sayGoodbye, .closeSocket, .release])
    }

    @Test("Theirs: a close frame is answered once; a second close of ours changes nothing")
    func theirClose() {
        #expect(run([.peerClose, .close, .goodbyeWritten]).actions == [.sayGoodbye, .none, .closeSocket])
    }

    @Test("Both sides at once: our goodbye, then theirs, closes the socket without waiting")
    func bothSides() {
        #expect(run([.close, .peerClose]).actions == [.sayGoodbye, .closeSocket])
    }

    @Test("A peer that vanishes: the socket closes at once, open or closing")
    func vanished() {
        #expect(run([.inputClosed, .socketClosed]).actions == [.closeSocket, .release])
        #expect(run([.close, .inputClosed]).actions == [.sayGoodbye, .closeSocket])
    }

    @Test("A socket closed under an open connection (reset, heartbeat timeout) releases once")
    func socketClosedWhileOpen() {
        let result = run([.socketClosed, .socketClosed, .close, .deadline, .peerClose])
        #expect(result.actions == [.release, .none, .none, .none, .none])
        #expect(result.state == .closed)
    }

    @Test("Stray events on an open connection do nothing")
    func strayEvents() {
        let result = run([.goodbyeWritten, .deadline])
        #expect(result.actions == [.none, .none])
        #expect(result.state == .open)
    }
}

import NIOCore
import NIOEmbedded
import Testing

@testable import SwitchboardServer

/// What a connection turned out to be is settled once: the first to say wins.
@Suite("Connection outcome")
struct ConnectionOutcomeTests {
    private struct Refused: Error {}

    @Test("The SSE handler settling first wins over the upgrade handler's later answer")
    func firstSettlementWins() throws {
        let loop = EmbeddedEventLoop()
        let outcome = ConnectionOutcome<String>(eventLoop: loop)
        let upgrade = loop.makePromise(of: String.self)
        outcome.settle(with: upgrade.futureResult)
        outcome.settle(.success("stream"))
        // The upgrade handler leaves the pipeline and fails its promise: nothing changes.
        upgrade.fail(Refused())
        loop.run()
        #expect(try outcome.future.wait() == "stream")
    }

    @Test("Without the SSE handler, the upgrade handler's answer, success or failure, is the outcome")
    func upgradeAnswerIsTheOutcome() throws {
        let loop = EmbeddedEventLoop()
        let upgraded = ConnectionOutcome<String>(eventLoop: loop)
        let upgrade = loop.makePromise(of: String.self)
        upgraded.settle(with: upgrade.futureResult)
        upgrade.succeed("webSocket")
        loop.run()
        #expect(try upgraded.future.wait() == "webSocket")

        let closed = ConnectionOutcome<String>(eventLoop: loop)
        let failing = loop.makePromise(of: String.self)
        closed.settle(with: failing.futureResult)
        failing.fail(Refused())
        closed.settle(.success("too late"))
        loop.run()
        #expect(throws: Refused.self) { try closed.future.wait() }
    }
}

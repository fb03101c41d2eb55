import SwitchboardCore
import SwitchboardEngine
import Testing

/// The order of a channel's events into one node's Hub when other nodes append to it too, without
/// sockets or a database.
@Suite("Cluster sequencer")
struct ClusterSequencerTests {
    private let orders = try! ChannelName("orders")
    private let chat = try! ChannelName("chat:1")

    private func event(_ offset: Int64, _ channel: ChannelName? = nil) -> Event {
        Event(
            id: EventID(stored: "evt_\(offset)"),
            channel: channel ?? orders,
            offset: offset,
            type: try! EventType("t"),
            time: Timestamp(millisecondsSinceEpoch: 0),
            data: "{}"
        )
    }

    private func page(_ offsets: ClosedRange<Int64>, reachesHead: Bool = true, truncated: Bool = false) -> HistoryPage {
        let events = offsets.map { event($0) }
        return HistoryPage(
            channel: orders,
            events: events,
            next: offsets.upperBound,
            earliest: offsets.lowerBound,
            isTruncated: truncated,
            reachesHead: reachesHead
        )
    }

    private func delivered(_ actions: [ClusterSequencer.Action]) -> [Int64] {
        actions.flatMap { action -> [Int64] in
            if case .deliver(let events) = action { return events.map(\.offset) }
            return []
        }
    }

    private func reads(_ actions: [ClusterSequencer.Action]) -> [Int64] {
        actions.compactMap { action in
            if case .readLog(_, let after) = action { return after }
            return nil
        }
    }

    @Test("This node's commits that follow the last delivered offset go to the Hub at once, without a read")
    func localCommitsInStep() {
        var sequencer = ClusterSequencer()
        sequencer.follow(orders, head: 4)
        let actions = sequencer.committedHere([event(5), event(6)])
        #expect(actions == [.deliver([event(5), event(6)])])
    }

    @Test("A local commit after offsets another node committed is held; the log fills the gap, then it follows")
    func gapFilledFromTheLog() {
        var sequencer = ClusterSequencer()
        sequencer.follow(orders, head: 4)
        let first = sequencer.committedHere([event(7)])
        #expect(delivered(first).isEmpty)
        #expect(reads(first) == [4])
        let filled = sequencer.logRead(orders, page: page(5...7))
        #expect(delivered(filled) == [5, 6, 7])
        #expect(reads(filled).isEmpty)
        #expect(sequencer.committedHere([event(8)]) == [.deliver([event(8)])])
    }

    @Test("A doorbell beyond the last delivered offset reads once, however often it rings during the read")
    func doorbellReadsOnce() {
        var sequencer = ClusterSequencer()
        sequencer.follow(orders, head: 0)
        #expect(sequencer.heard(orders, head: 3) == [.readLog(orders, after: 0)])
        #expect(sequencer.heard(orders, head: 5).isEmpty)
        // The page reached the head the read saw (3), but 5 is known: read again from 3.
        let actions = sequencer.logRead(orders, page: page(1...3))
        #expect(delivered(actions) == [1, 2, 3])
        #expect(reads(actions) == [3])
        #expect(delivered(sequencer.logRead(orders, page: page(4...5))) == [4, 5])
        #expect(sequencer.heard(orders, head: 5).isEmpty)
    }

    @Test("A page that stops before the head reads the next one")
    func partialPageReadsOn() {
        var sequencer = ClusterSequencer()
        sequencer.follow(orders, head: 0)
        _ = sequencer.heard(orders, head: 2)
        let actions = sequencer.logRead(orders, page: page(1...2, reachesHead: false))
        #expect(delivered(actions) == [1, 2])
        #expect(reads(actions) == [2])
    }

    @Test("An offset seen both in this node's commits and in the log is delivered once")
    func noDuplicates() {
        var sequencer = ClusterSequencer()
        sequencer.follow(orders, head: 0)
        _ = sequencer.heard(orders, head: 1)
        #expect(sequencer.committedHere([event(2)]).isEmpty)
        // The read (in flight since the doorbell) already sees 2 as well.
        #expect(delivered(sequencer.logRead(orders, page: page(1...2))) == [1, 2])
        #expect(sequencer.committedHere([event(2)]).isEmpty)
        #expect(delivered(sequencer.logRead(orders, page: page(1...2))).isEmpty)
    }

    @Test("Past the bound, held events are dropped and the log supplies them, still in order")
    func heldEventsAreBounded() {
        var sequencer = ClusterSequencer(maximumHeld: 2)
        sequencer.follow(orders, head: 0)
        #expect(reads(sequencer.committedHere([event(3)])) == [0])
        #expect(sequencer.committedHere([event(4), event(5)]).isEmpty)
        #expect(delivered(sequencer.logRead(orders, page: page(1...5))) == [1, 2, 3, 4, 5])
    }

    @Test("Held events are bounded in bytes too")
    func heldBytesAreBounded() {
        var sequencer = ClusterSequencer(maximumHeld: 100, maximumHeldBytes: 10)
        sequencer.follow(orders, head: 0)
        let big = Event(
            id: EventID(stored: "evt_big"),
            channel: orders,
            offset: 3,
            type: try! EventType("t"),
            time: Timestamp(millisecondsSinceEpoch: 0),
            data: #"{"pad":"0123456789"}"#
        )
        #expect(reads(sequencer.committedHere([big])) == [0])
        // Dropped at once (past 10 bytes): the page supplies it.
        #expect(delivered(sequencer.logRead(orders, page: page(1...2))) == [1, 2])
        #expect(delivered(sequencer.logRead(orders, page: page(3...3))) == [3])
    }

    @Test("A head reported before a read, beyond the head the read saw, does not make it read forever")
    func wrongHeadIsForgotten() {
        var sequencer = ClusterSequencer()
        sequencer.follow(orders, head: 0)
        #expect(reads(sequencer.heard(orders, head: 9)) == [0])
        let actions = sequencer.logRead(orders, page: page(1...2))
        #expect(delivered(actions) == [1, 2])
        #expect(reads(actions).isEmpty)
        // A real head later still reads.
        #expect(reads(sequencer.heard(orders, head: 3)) == [2])
    }

    @Test("Channels nobody here follows are ignored; each followed channel keeps its own order")
    func onlyFollowedChannels() {
        var sequencer = ClusterSequencer()
        sequencer.follow(chat, head: 10)
        #expect(sequencer.committedHere([event(1), event(11, chat)]) == [.deliver([event(11, chat)])])
        #expect(sequencer.heard(orders, head: 9).isEmpty)
        sequencer.unfollow(chat)
        #expect(sequencer.committedHere([event(12, chat)]).isEmpty)
        #expect(sequencer.followed.isEmpty)
    }

    @Test("A failed read is tried again at the next report of the head")
    func failedReadRetries() {
        var sequencer = ClusterSequencer()
        sequencer.follow(orders, head: 0)
        #expect(sequencer.heard(orders, head: 1) == [.readLog(orders, after: 0)])
        sequencer.readFailed(orders)
        #expect(sequencer.heard(orders, head: 1) == [.readLog(orders, after: 0)])
    }

    @Test("After retention removed the missing offsets, delivery goes on from the earliest retained one")
    func truncatedRead() {
        var sequencer = ClusterSequencer()
        sequencer.follow(orders, head: 0)
        _ = sequencer.heard(orders, head: 9)
        #expect(delivered(sequencer.logRead(orders, page: page(7...9, truncated: true))) == [7, 8, 9])
    }
}

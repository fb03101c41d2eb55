import SwitchboardCore
import SwitchboardEngine
import Testing

/// The way from a cursor to live, without sockets or a log.
@Suite("Channel catch-up")
struct ChannelCatchUpTests {
    private let channel = try! ChannelName("orders")

    private func event(_ offset: Int64) -> Event {
        Event(
            id: EventID(stored: "evt_\(offset)"),
            channel: channel,
            offset: offset,
            type: try! EventType("t"),
            time: Timestamp(millisecondsSinceEpoch: 0),
            data: "{}"
        )
    }

    private func page(_ offsets: ClosedRange<Int64>?, reachesHead: Bool, truncated: Bool = false, next: Int64 = 0)
        -> HistoryPage
    {
        let events = offsets.map { $0.map(event) } ?? []
        return HistoryPage(
            channel: channel,
            events: events,
            next: events.last?.offset ?? next,
            earliest: events.first?.offset ?? next + 1,
            isTruncated: truncated,
            reachesHead: reachesHead
        )
    }

    @Test("From a cursor: pages are written in order, then it turns live at the head")
    func cursorToLive() {
        var catchUp = ChannelCatchUp(after: 3)
        let result1 = catchUp.startRead()
        #expect(result1)
        let result2 = catchUp.startRead()
        #expect(!result2, "one read at a time")
        let first = catchUp.pageRead(page(4...6, reachesHead: false))
        #expect(first.events.map(\.offset) == [4, 5, 6] && first.readsMore)
        let result3 = catchUp.startRead()
        #expect(result3)
        let last = catchUp.pageRead(page(7...8, reachesHead: true))
        #expect(last.events.map(\.offset) == [7, 8] && !last.readsMore)
        #expect(catchUp.isLive && catchUp.delivered == 8)
        let result4 = catchUp.startRead()
        #expect(!result4)
        let result5 = catchUp.live(offset: 9, batchEnd: 9)
        #expect(result5 == .write)
        let result6 = catchUp.live(offset: 9, batchEnd: 9)
        #expect(result6 == .skip)
        let result7 = catchUp.takeInStep(first: 10, last: 12)
        #expect(result7)
        #expect(catchUp.delivered == 12)
    }

    @Test("Live events seen while reading keep it reading until the log has them")
    func liveWhileReading() {
        var catchUp = ChannelCatchUp(after: 0)
        let result8 = catchUp.startRead()
        #expect(result8)
        let result9 = catchUp.live(offset: 3, batchEnd: 4)
        #expect(result9 == .skip)
        let outcome = catchUp.pageRead(page(1...2, reachesHead: true))
        #expect(outcome.readsMore, "4 was seen live but not yet read")
        let result10 = catchUp.startRead()
        #expect(result10)
        let result11 = catchUp.pageRead(page(3...4, reachesHead: true))
        #expect(!result11.readsMore)
        #expect(catchUp.isLive)
    }

    @Test("A live event after a gap sends it back to the log; nothing past the gap is written")
    func gapGoesBackToTheLog() {
        var catchUp = ChannelCatchUp(after: 5)
        _ = catchUp.startLive(at: 5)
        #expect(catchUp.isLive)
        let result12 = catchUp.takeInStep(first: 7, last: 8)
        #expect(!result12)
        let result13 = catchUp.live(offset: 7, batchEnd: 8)
        #expect(result13 == .readLog)
        let result14 = catchUp.live(offset: 8, batchEnd: 8)
        #expect(result14 == .skip)
        #expect(catchUp.delivered == 5 && !catchUp.isLive)
        let result15 = catchUp.startRead()
        #expect(result15)
        let result16 = catchUp.pageRead(page(6...8, reachesHead: true))
        #expect(!result16.readsMore)
    }

    @Test("A truncated page continues from the earliest retained event and says so")
    func truncated() {
        var catchUp = ChannelCatchUp(after: 2)
        let result17 = catchUp.startRead()
        #expect(result17)
        let outcome = catchUp.pageRead(page(50...51, reachesHead: true, truncated: true))
        #expect(outcome.isTruncated && outcome.events.map(\.offset) == [50, 51])
        var empty = ChannelCatchUp(after: 99)
        let result18 = empty.startRead()
        #expect(result18)
        let beyond = empty.pageRead(page(nil, reachesHead: true, truncated: true, next: 10))
        #expect(beyond.isTruncated && beyond.events.isEmpty && empty.delivered == 10 && empty.isLive)
    }

    @Test("A live start reads the log only when something past the head was seen live")
    func liveStart() {
        var quiet = ChannelCatchUp(after: 0)
        let result19 = quiet.startLive(at: 40)
        #expect(!result19)
        #expect(quiet.isLive && quiet.delivered == 40)
        var busy = ChannelCatchUp(after: 0)
        let result20 = busy.live(offset: 41, batchEnd: 41)
        #expect(result20 == .skip)
        let result21 = busy.startLive(at: 40)
        #expect(result21)
        let result22 = busy.startRead()
        #expect(result22)
        let result23 = busy.pageRead(page(41...41, reachesHead: true))
        #expect(!result23.readsMore)
    }

    @Test("A failed read can be retried")
    func failedRead() {
        var catchUp = ChannelCatchUp(after: 0)
        let result24 = catchUp.startRead()
        #expect(result24)
        catchUp.readFailed()
        let result25 = catchUp.startRead()
        #expect(result25)
    }
}

public import SwitchboardCore
public import SwitchboardStore

/// One channel's way from a reader's cursor to the live stream, the same for every transport
/// (WebSocket subscriptions and SSE streams follow it; long-poll reads the same bounded pages):
/// a pure state machine that the connection feeds with live events and log pages, and that says
/// what to write and when to read the log again.
///
/// The reader registers with the Hub before its first read, so nothing committed in between is lost.
/// While it reads the log, live events only raise a high-water mark; it turns live once a page
/// reaches the head and nothing newer was seen live. A live event that does not follow the last
/// delivered offset sends it back to the log, so a gap is never delivered. Pages are bounded by count
/// and bytes (`Limits.maximumPageBytes`), and the next page is read only when the connection asks,
/// which it does once its socket is writable: catch-up is paced by the reader.
public struct ChannelCatchUp: Sendable, Equatable {
    /// The last offset delivered (or skipped past, after a truncation).
    public private(set) var delivered: Int64
    /// Taking live events; false while reading the log.
    public private(set) var isLive = false
    /// A log read is in flight.
    private var isReading = false
    /// The highest live offset seen while reading the log.
    private var liveHighWater: Int64 = 0

    /// Most events one catch-up page holds.
    public static let pageSize = 500

    /// Reads the page of `channel` after `offset` that a catch-up writes next: at most `pageSize`
    /// events, at most `limits.maximumPageBytes` of data, and at most half of `mailboxBytes`, so that
    /// one page alone never trips the connection's flow control.
    public static func readPage(
        of channel: ChannelName,
        after offset: Int64,
        from log: any EventLog,
        limits: Limits,
        mailboxBytes: Int
    ) async throws -> HistoryPage {
        try await log.read(
            channel: channel,
            after: offset,
            limit: pageSize,
            maximumBytes: max(1, min(limits.maximumPageBytes, mailboxBytes / 2))
        )
    }

    /// Starts after `offset` (a cursor; the head for a live start), reading the log first.
    public init(after offset: Int64) {
        self.delivered = max(0, offset)
    }

    /// What to do with a live event.
    public enum LiveAction: Equatable, Sendable {
        /// Write it; `delivered` is now its offset.
        case write
        /// Already delivered, or to be read from the log later.
        case skip
        /// It leaves a gap: stop taking live events and read the log (`startRead`).
        case readLog
    }

    /// Takes a live event at `offset`, from a batch whose last offset is `batchEnd`.
    public mutating func live(offset: Int64, batchEnd: Int64) -> LiveAction {
        guard isLive else {
            liveHighWater = max(liveHighWater, batchEnd)
            return .skip
        }
        if offset <= delivered { return .skip }
        guard offset == delivered + 1 else {
            isLive = false
            liveHighWater = max(liveHighWater, batchEnd)
            return .readLog
        }
        delivered = offset
        return .write
    }

    /// Takes a whole live batch `first...last` at once when it follows the last delivered offset (the
    /// common case of a reader in step); false when the events must be taken one by one.
    public mutating func takeInStep(first: Int64, last: Int64) -> Bool {
        guard isLive, first == delivered + 1 else { return false }
        delivered = last
        return true
    }

    /// Starts live at `head` (the channel's head read after registering), for a reader without a
    /// cursor; whether the log must still be read (live events past the head were seen meanwhile).
    public mutating func startLive(at head: Int64) -> Bool {
        isReading = false
        delivered = max(delivered, head)
        isLive = liveHighWater <= delivered
        return !isLive
    }

    /// Whether a log read should start now (reading the log, and none in flight); marks it started.
    public mutating func startRead() -> Bool {
        guard !isLive, !isReading else { return false }
        isReading = true
        return true
    }

    /// A read that failed: nothing changes but the read is no longer in flight.
    public mutating func readFailed() {
        isReading = false
    }

    /// What a page read from the log brought.
    public struct PageOutcome: Equatable, Sendable {
        /// Events to write, in order.
        public var events: [Event]
        /// Events the reader asked for were lost to retention (or the cursor was beyond the head):
        /// delivery continues from the earliest retained event.
        public var isTruncated: Bool
        /// Still reading the log: read the next page once the connection can take it.
        public var readsMore: Bool
    }

    /// Applies a page read after `delivered`.
    public mutating func pageRead(_ page: HistoryPage) -> PageOutcome {
        isReading = false
        if page.isTruncated {
            delivered = page.events.first.map { $0.offset - 1 } ?? page.next
        }
        var events: [Event] = []
        events.reserveCapacity(page.events.count)
        for event in page.events where event.offset > delivered {
            events.append(event)
            delivered = event.offset
        }
        if page.reachesHead && liveHighWater <= delivered {
            isLive = true
        }
        return PageOutcome(events: events, isTruncated: page.isTruncated, readsMore: !isLive)
    }
}

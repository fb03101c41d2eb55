import SwitchboardCore

/// The backend-independent part of `EventLog.read`: where a read starts given the channel's row,
/// and the page it makes of the events found. Each backend reads the row, then the events after
/// `start`, and hands both here.
struct HistoryRead: Sendable {
    let channel: ChannelName
    let after: Int64
    /// The channel's last offset, as read.
    let head: Int64
    /// The channel's earliest retained offset, as read.
    let earliest: Int64
    /// Where the events are read from (after this offset).
    let start: Int64
    /// The reader's cursor is beyond the head (the log was replaced) or older than retention.
    let isTruncated: Bool

    init(channel: ChannelName, after: Int64, head: Int64, earliest: Int64) {
        self.channel = channel
        self.after = after
        self.head = head
        self.earliest = earliest
        // Beyond the head or older than retention: say so, go on from the earliest.
        isTruncated = after > head || (after > 0 && after < earliest - 1)
        start = isTruncated ? earliest - 1 : after
    }

    /// The page of `events`, read after `start` in offset order.
    func page(_ events: [Event]) -> HistoryPage {
        // Retention removing events between reading the row and the events also truncates.
        let retentionCut = events.first.map { start > 0 && $0.offset > start + 1 } ?? false
        let next = events.last?.offset ?? min(max(after, start), head)
        return HistoryPage(
            channel: channel,
            events: events,
            next: next,
            earliest: events.first.map { min($0.offset, earliest) } ?? min(earliest, head + 1),
            isTruncated: isTruncated || retentionCut,
            reachesHead: next >= head,
            head: head
        )
    }
}

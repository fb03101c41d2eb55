/// One page of a channel's history, as the history API and the WebSocket `history` reply carry it.
public struct HistoryPage: Hashable, Sendable {
    /// The channel read.
    public let channel: ChannelName
    /// Events after the requested offset, in order.
    public let events: [Event]
    /// The offset to send as `after` next time.
    public let next: Int64
    /// The earliest offset still retained (the head + 1 when the channel is empty).
    public let earliest: Int64
    /// Whether events the reader asked for were lost to retention.
    public let isTruncated: Bool
    /// Whether the page ends at the channel's head as the read saw it (nothing more to read then).
    public let reachesHead: Bool
    /// The channel's last offset as the read saw it: where a reader that wants only new events starts.
    public let head: Int64

    /// Makes a page.
    public init(
        channel: ChannelName,
        events: [Event],
        next: Int64,
        earliest: Int64,
        isTruncated: Bool,
        reachesHead: Bool = true,
        head: Int64? = nil
    ) {
        self.channel = channel
        self.events = events
        self.next = next
        self.earliest = earliest
        self.isTruncated = isTruncated
        self.reachesHead = reachesHead
        self.head = max(head ?? next, next)
    }

    /// `"channel":…,"events":[…],"next":…,"earliest":…,"truncated":…,"head":…` (no braces).
    public func appendFields(into out: inout String) {
        out += "\"channel\":\"\(channel)\",\"events\":["
        for (i, event) in events.enumerated() {
            if i > 0 { out += "," }
            out += "{"
            event.appendFields(into: &out)
            out += "}"
        }
        out += "],\"next\":\(next),\"earliest\":\(earliest),\"truncated\":\(isTruncated),\"head\":\(head)"
    }

    /// The HTTP body: `{"channel","events","next","earliest","truncated","head"}`.
    public var json: String {
        var out = "{"
        appendFields(into: &out)
        out += "}"
        return out
    }
}

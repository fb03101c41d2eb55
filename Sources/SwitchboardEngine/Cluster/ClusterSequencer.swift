public import SwitchboardCore
import SwitchboardStore

/// The order in which a node hands each channel's events to its Hub when several nodes append to
/// the same channels: a pure state machine, fed with what this node commits, with what the doorbell
/// or a poll says of the channels' heads, and with pages read from the log; it answers with events
/// to deliver (consecutive offsets, each once) and log reads to make.
///
/// This node's own commits arrive at once; the other nodes' arrive only through the log. A local
/// event that does not follow the last delivered offset means another node committed the offsets in
/// between: it is held (up to `maximumHeld` per channel; past that the log is read for it too) and
/// the log is read from the last delivered offset, so the Hub never sees a gap or a duplicate. The
/// doorbell is only a hint: any report of a head beyond the last delivered offset starts a read, and
/// a read that does not reach what is known reads again. Only followed channels (those with local
/// subscribers) are tracked.
public struct ClusterSequencer: Sendable, Equatable {
    /// What the node does next.
    public enum Action: Sendable, Equatable {
        /// Hands these events of one channel, consecutive offsets in order, to the Hub.
        case deliver([Event])
        /// Reads the channel's log after the offset and reports the page with `logRead`.
        case readLog(ChannelName, after: Int64)
    }

    private struct Follow: Sendable, Equatable {
        /// The last offset handed to the Hub.
        var delivered: Int64
        /// Local events past a gap, in offset order.
        var held: [Event] = []
        /// The bytes of `data` of the held events.
        var heldBytes = 0
        /// The highest offset known to be committed.
        var knownHead: Int64
        /// A log read is in flight.
        var isReading = false
        /// The highest head reported while the read in flight was made (it may be past what it sees).
        var heardWhileReading: Int64 = 0
    }

    private var channels: [ChannelName: Follow] = [:]
    /// Most local events held per channel while a gap before them is read from the log.
    public let maximumHeld: Int
    /// Most bytes of `data` held per channel.
    public let maximumHeldBytes: Int

    /// Makes a sequencer following no channel.
    public init(maximumHeld: Int = 1000, maximumHeldBytes: Int = 1 << 20) {
        self.maximumHeld = max(1, maximumHeld)
        self.maximumHeldBytes = max(1, maximumHeldBytes)
    }

    /// The channels followed.
    public var followed: Set<ChannelName> { Set(channels.keys) }

    /// Starts following `channel`, whose events up to `head` its subscribers read from the log
    /// themselves; nothing changes when it is followed already.
    public mutating func follow(_ channel: ChannelName, head: Int64) {
        guard channels[channel] == nil else { return }
        channels[channel] = Follow(delivered: head, knownHead: head)
    }

    /// Stops following `channel` (its last local subscriber left).
    public mutating func unfollow(_ channel: ChannelName) {
        channels[channel] = nil
    }

    /// Events this node committed, in commit order.
    public mutating func committedHere(_ events: [Event]) -> [Action] {
        var order: [ChannelName] = []
        var byChannel: [ChannelName: [Event]] = [:]
        for event in events where channels[event.channel] != nil {
            if byChannel[event.channel] == nil { order.append(event.channel) }
            byChannel[event.channel, default: []].append(event)
        }
        return order.flatMap { accept(byChannel[$0] ?? [], of: $0) }
    }

    /// The doorbell or a poll says `channel` reached `head`.
    public mutating func heard(_ channel: ChannelName, head: Int64) -> [Action] {
        guard var follow = channels[channel] else { return [] }
        follow.knownHead = max(follow.knownHead, head)
        if follow.isReading { follow.heardWhileReading = max(follow.heardWhileReading, head) }
        channels[channel] = follow
        return readIfBehind(channel)
    }

    /// A page of `channel` read after the offset a `readLog` action named.
    public mutating func logRead(_ channel: ChannelName, page: HistoryPage) -> [Action] {
        guard var follow = channels[channel] else { return [] }
        follow.isReading = false
        if page.isTruncated, let first = page.events.first, first.offset > follow.delivered + 1 {
            // Retention removed what came before: the subscribers are told by their own catch-up.
            follow.delivered = first.offset - 1
        }
        if page.reachesHead {
            // The log's head as the read saw it: a head reported before the read that is past it was
            // wrong (a restored database, a forged notification) and would make it read forever. Heads
            // reported during the read, and local commits held, may be newer than what it saw.
            let seen = max(follow.delivered, page.events.last?.offset ?? 0)
            follow.knownHead = max(seen, follow.heardWhileReading, follow.held.last?.offset ?? 0)
        } else {
            follow.knownHead = max(follow.knownHead, page.next + 1)
        }
        channels[channel] = follow
        return accept(page.events, of: channel)
    }

    /// The read of `channel` failed: the next report of its head reads again.
    public mutating func readFailed(_ channel: ChannelName) {
        channels[channel]?.isReading = false
    }

    /// Delivers what follows the last delivered offset, holds what is past a gap, and reads the log
    /// when something is missing.
    private mutating func accept(_ events: [Event], of channel: ChannelName) -> [Action] {
        guard var follow = channels[channel] else { return [] }
        var ready: [Event] = []
        for event in events.sorted(by: { $0.offset < $1.offset }) {
            follow.knownHead = max(follow.knownHead, event.offset)
            if event.offset <= follow.delivered { continue }
            if event.offset == follow.delivered + 1 {
                ready.append(event)
                follow.delivered = event.offset
            } else if !follow.held.contains(where: { $0.offset == event.offset }) {
                follow.held.append(event)
                follow.heldBytes += event.data.utf8.count
            }
        }
        follow.held.sort { $0.offset < $1.offset }
        while let next = follow.held.first, next.offset <= follow.delivered + 1 {
            follow.held.removeFirst()
            follow.heldBytes -= next.data.utf8.count
            guard next.offset == follow.delivered + 1 else { continue }
            ready.append(next)
            follow.delivered = next.offset
        }
        if follow.held.count > maximumHeld || follow.heldBytes > maximumHeldBytes {
            // Too far behind to hold: the log has every one of them.
            follow.held.removeAll()
            follow.heldBytes = 0
        }
        channels[channel] = follow
        var actions: [Action] = ready.isEmpty ? [] : [.deliver(ready)]
        actions += readIfBehind(channel)
        return actions
    }

    private mutating func readIfBehind(_ channel: ChannelName) -> [Action] {
        guard var follow = channels[channel], !follow.isReading, follow.knownHead > follow.delivered else { return [] }
        follow.isReading = true
        follow.heardWhileReading = 0
        channels[channel] = follow
        return [.readLog(channel, after: follow.delivered)]
    }
}

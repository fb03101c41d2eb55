public import SwitchboardCore

/// The durable, append-only log of events: the one source of truth every transport reads.
///
/// Contract every implementation keeps (checked by the shared conformance suite):
/// - `append` is all-or-nothing per call: either every draft of the call is stored (or replayed), or
///   none is and the call throws.
/// - Offsets are assigned inside the committing transaction, per channel, 1, 2, 3, … without gaps,
///   in commit order. Calls may share one transaction and one fsync (group commit).
/// - `append` returns only after the commit is durable under the configured durability.
/// - A draft whose idempotency key was stored within the idempotency window (or whose event is still
///   retained) is not stored again; its receipt is the original event's, marked `wasReplayed`. The
///   same key twice in one call stores one event. A key that belongs to an event on another channel
///   fails the call with `SwitchboardError(.conflict)`, without affecting other calls.
/// - Committed events are handed to the commit observer in commit order, before `append` returns.
/// - Reads never block on appends; they see only committed events.
public protocol EventLog: Sendable {
    /// Appends drafts atomically and calls `completion` once with the outcome (receipts in draft
    /// order), on whatever thread the commit finishes on: callers on an event loop need no task per
    /// call. `append(_:)` is the same, awaited.
    func append(_ drafts: [EventDraft], then completion: @escaping @Sendable (Result<AppendOutcome, any Error>) -> Void)

    /// Reads up to `limit` events of `channel` after offset `after` (0: from the start of retention),
    /// saying whether the reader missed events lost to retention or asked beyond the head. The page
    /// stops before the event that would take its `data` past `maximumBytes`, but always holds at least
    /// one event when there is one, so that a reader never stalls on a large event.
    func read(channel: ChannelName, after: Int64, limit: Int, maximumBytes: Int) async throws -> HistoryPage

    /// The last offset assigned in `channel` (0 when nothing was ever published there).
    func head(of channel: ChannelName) async throws -> Int64

    /// The heads of `channels` (0 for a channel nothing was ever published to), in one read where the
    /// backend can.
    func heads(of channels: [ChannelName]) async throws -> [ChannelName: Int64]

    /// The channels whose name starts with `prefix` and whose newest retained event is of type `type`
    /// (a journal left in a state, such as an occupancy journal a crash left `channel.occupied`).
    func channels(withPrefix prefix: String, endingWith type: EventType) async throws -> [ChannelName]

    /// Removes events beyond each namespace's retention and idempotency keys older than the window;
    /// returns how many events were removed.
    func trim(policies: NamespacePolicies, now: Timestamp) async throws -> Int

    /// Whether the store answers.
    func checkReadiness() async -> Bool

    /// The retained event with this id and where it came from; nil when there is none.
    func storedEvent(id: EventID) async throws -> StoredEvent?
}

/// An event read back by id, with its origin (nil for events stored before origins were kept).
public struct StoredEvent: Hashable, Sendable {
    /// The event.
    public let event: Event
    /// Who published it.
    public let origin: EventOrigin?

    /// Makes one.
    public init(event: Event, origin: EventOrigin?) {
        self.event = event
        self.origin = origin
    }
}

/// What one `append` call produced.
public struct AppendOutcome: Hashable, Sendable {
    /// One receipt per draft, in draft order.
    public let receipts: [AppendReceipt]
    /// The events newly stored by this call (replays excluded), in offset order per channel.
    public let appended: [Event]

    /// Makes an outcome.
    public init(receipts: [AppendReceipt], appended: [Event]) {
        self.receipts = receipts
        self.appended = appended
    }
}

/// Where a published event landed.
public struct AppendReceipt: Hashable, Sendable {
    /// The event's id.
    public let id: EventID
    /// The channel.
    public let channel: ChannelName
    /// The event's offset.
    public let offset: Int64
    /// When it was first stored.
    public let time: Timestamp
    /// Whether this is the receipt of an earlier publish with the same idempotency key.
    public let wasReplayed: Bool

    /// Makes a receipt.
    public init(id: EventID, channel: ChannelName, offset: Int64, time: Timestamp, wasReplayed: Bool) {
        self.id = id
        self.channel = channel
        self.offset = offset
        self.time = time
        self.wasReplayed = wasReplayed
    }

    /// `{"id","channel","offset","time"}`.
    public var json: String {
        "{\"id\":\(JSONWriter.quoted(id.rawValue)),\"channel\":\"\(channel)\",\"offset\":\(offset),\"time\":\"\(time)\"}"
    }
}

extension EventLog {
    /// Appends drafts atomically; receipts come back in draft order (see `append(_:then:)`).
    public func append(_ drafts: [EventDraft]) async throws -> AppendOutcome {
        try await withCheckedThrowingContinuation { continuation in
            append(drafts) { continuation.resume(with: $0) }
        }
    }

    /// The heads of `channels`, one read each.
    public func heads(of channels: [ChannelName]) async throws -> [ChannelName: Int64] {
        var heads: [ChannelName: Int64] = [:]
        for channel in channels { heads[channel] = try await head(of: channel) }
        return heads
    }

    /// Reads up to `limit` events with no byte bound (see `read(channel:after:limit:maximumBytes:)`).
    public func read(channel: ChannelName, after: Int64, limit: Int) async throws -> HistoryPage {
        try await read(channel: channel, after: after, limit: limit, maximumBytes: .max)
    }
}

public import SwitchboardCore

/// What one group commit stores, decided without a database: the rules every `EventLog` backend
/// shares, so that SQLite and PostgreSQL answer the same calls the same way. A backend reads what the
/// plan needs (the receipts of events already stored under the calls' idempotency keys, and the
/// channels' heads), makes the plan, writes `events` in one transaction, and answers each call with its
/// outcome once the transaction commits.
///
/// The rules:
/// - Each call is all-or-nothing: a call whose key belongs to an event on another channel (stored
///   earlier, planned earlier in the group, or earlier in the same call) fails with `conflict`, and
///   none of its drafts is stored; the other calls of the group go on.
/// - A key already stored, or planned earlier in the group, is answered with the original receipt,
///   marked `wasReplayed`, and stores nothing.
/// - Offsets continue each channel's head, 1, 2, 3, … without gaps, in call order then draft order.
/// - A draft without a key gets a random event id; a keyed draft's key is its event id.
public struct AppendPlan: Sendable {
    /// One call's answer: its outcome, or the refusal of the whole call.
    public let outcomes: [Result<AppendOutcome, SwitchboardError>]
    /// The events to store, in the order they were planned (per channel in offset order).
    public let events: [Event]
    /// For each of `events`, whether it was published with an idempotency key (which the store must
    /// remember for the idempotency window after the event itself is trimmed).
    public let isKeyed: [Bool]
    /// For each of `events`, who published it (stored with the event).
    public let origins: [EventOrigin]
    /// Each touched channel's head once `events` are stored.
    public let heads: [ChannelName: Int64]

    /// Plans `calls` (each one `append` call's drafts) at `time`, given the receipts of events already
    /// stored under any of the calls' keys (`existing`) and the head of every channel the calls
    /// publish to (`heads`; a channel missing from it has head 0).
    public init(
        calls: [[EventDraft]],
        existing: [EventID: AppendReceipt],
        heads: [ChannelName: Int64],
        time: Timestamp,
        using generator: inout some RandomNumberGenerator
    ) {
        var newHeads = heads
        var plannedByKey: [EventID: AppendReceipt] = [:]
        var outcomes: [Result<AppendOutcome, SwitchboardError>] = []
        var events: [Event] = []
        var isKeyed: [Bool] = []
        var origins: [EventOrigin] = []
        for drafts in calls {
            if let clash = Self.keyClash(in: drafts, existing: existing, planned: plannedByKey) {
                let error = SwitchboardError(
                    .conflict,
                    "the id or Idempotency-Key \(JSONWriter.quoted(clash.key.rawValue)) belongs to an event on another channel"
                )
                outcomes.append(.failure(drafts.count > 1 ? error.at(index: clash.index) : error))
                continue
            }
            var receipts: [AppendReceipt] = []
            var appended: [Event] = []
            for draft in drafts {
                if let key = draft.idempotencyKey, let earlier = existing[key] ?? plannedByKey[key] {
                    receipts.append(earlier.replayed)
                    continue
                }
                let offset = (newHeads[draft.channel] ?? 0) + 1
                newHeads[draft.channel] = offset
                let id = draft.idempotencyKey ?? EventID.random(using: &generator)
                let event = Event(
                    id: id,
                    channel: draft.channel,
                    offset: offset,
                    type: draft.type,
                    time: time,
                    data: draft.data
                )
                let receipt = AppendReceipt(
                    id: id,
                    channel: draft.channel,
                    offset: offset,
                    time: time,
                    wasReplayed: false
                )
                if let key = draft.idempotencyKey { plannedByKey[key] = receipt }
                receipts.append(receipt)
                appended.append(event)
                events.append(event)
                isKeyed.append(draft.idempotencyKey != nil)
                origins.append(draft.origin)
            }
            outcomes.append(.success(AppendOutcome(receipts: receipts, appended: appended)))
        }
        self.outcomes = outcomes
        self.events = events
        self.isKeyed = isKeyed
        self.origins = origins
        self.heads = newHeads
    }

    /// The first draft of `drafts` whose key already belongs to an event on another channel.
    private static func keyClash(
        in drafts: [EventDraft],
        existing: [EventID: AppendReceipt],
        planned: [EventID: AppendReceipt]
    ) -> (index: Int, key: EventID)? {
        var keysInCall: [EventID: ChannelName] = [:]
        for (index, draft) in drafts.enumerated() {
            guard let key = draft.idempotencyKey else { continue }
            let earlier = existing[key]?.channel ?? planned[key]?.channel ?? keysInCall[key]
            if let earlier, earlier != draft.channel { return (index, key) }
            keysInCall[key] = draft.channel
        }
        return nil
    }
}

extension AppendReceipt {
    /// The same receipt, answered to a repeated publish.
    fileprivate var replayed: AppendReceipt {
        AppendReceipt(id: id, channel: channel, offset: offset, time: time, wasReplayed: true)
    }
}

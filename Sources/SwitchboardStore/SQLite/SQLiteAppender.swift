import Logging
import SwitchboardCore

/// Commits a group of appends in one transaction: looks up idempotency keys, assigns offsets from the
/// channel heads it caches, inserts events, keys and heads, commits, then tells the observer and the
/// callers. Owned by the writer loop, so its state needs no lock.
struct SQLiteAppender: Sendable {
    let maximumGroupEvents: Int
    let idempotencyWindows: IdempotencyWindows
    let now: @Sendable () -> Timestamp
    let random: RandomBitsGenerator
    let onCommit: @Sendable ([Event]) -> Void
    /// Last offset per channel, as committed.
    private var heads: [ChannelName: Int64] = [:]
    private var refusesAppends = false

    init(
        maximumGroupEvents: Int,
        idempotencyWindows: IdempotencyWindows,
        now: @escaping @Sendable () -> Timestamp,
        random: RandomBitsGenerator,
        onCommit: @escaping @Sendable ([Event]) -> Void,
        refusesAppends: Bool = false
    ) {
        self.random = random
        self.refusesAppends = refusesAppends
        self.maximumGroupEvents = maximumGroupEvents
        self.idempotencyWindows = idempotencyWindows
        self.now = now
        self.onCommit = onCommit
    }

    /// An appender for a writer with no event log attached: every append fails.
    static let refusingAppends = SQLiteAppender(
        maximumGroupEvents: 1,
        idempotencyWindows: IdempotencyWindows(publishMilliseconds: 0, inboundMilliseconds: 0),
        now: { Timestamp(millisecondsSinceEpoch: 0) },
        random: .system,
        onCommit: { _ in },
        refusesAppends: true
    )

    /// Commits `group` in one transaction on the writer's thread, then tells the observer and the callers.
    mutating func commit(_ group: [PendingAppend], on thread: SQLiteAppendThread?, logger: Logger) async {
        guard !refusesAppends, let thread else {
            for pending in group { pending.resume(throwing: StoreError("no event log is attached")) }
            return
        }
        let calls = group.map(\.drafts)
        let known = heads
        let time = now()
        let random = random
        let windows = idempotencyWindows
        do {
            let plan = try await thread.run { connection in
                try Self.transact(calls, heads: known, time: time, random: random, windows: windows, on: connection)
            }
            heads = plan.heads
            onCommit(plan.events)
            for (pending, outcome) in zip(group, plan.outcomes) {
                pending.resume(with: outcome.mapError { $0 as any Error })
            }
        } catch {
            logger.error("group commit failed", metadata: ["sb.error": "\(error)", "sb.calls": "\(group.count)"])
            for pending in group {
                pending.resume(throwing: StoreError("append failed: \(error)"))
            }
        }
    }

    /// The group's transaction, on the writer's thread: looks up idempotency keys and the heads it does
    /// not know, plans offsets and ids, inserts the events (triggers advance the heads, remember keys
    /// and fill the webhook outbox), commits. Rolls back and throws on any failure.
    private static func transact(
        _ calls: [[EventDraft]],
        heads: [ChannelName: Int64],
        time: Timestamp,
        random: RandomBitsGenerator,
        windows: IdempotencyWindows,
        on connection: SQLiteDirectConnection
    ) throws -> AppendPlan {
        try connection.run("BEGIN IMMEDIATE", [])
        do {
            var known = heads
            for channel in Set(calls.joined().map(\.channel)) where known[channel] == nil {
                var head: Int64 = 0
                try connection.run(Statements.head, [.text(channel.rawValue)]) { head = $0.integer(0) }
                known[channel] = head
            }
            var generator = random
            let plan = AppendPlan(
                calls: calls,
                existing: try lookUp(Set(calls.joined().compactMap(\.idempotencyKey)), at: time, windows, connection),
                heads: known,
                time: time,
                using: &generator
            )
            for ((event, isKeyed), origin) in zip(zip(plan.events, plan.isKeyed), plan.origins) {
                try connection.run(
                    Statements.insert,
                    [
                        .text(event.channel.rawValue), .integer(event.offset), .text(event.id.rawValue),
                        .text(event.type.rawValue), .integer(time.millisecondsSinceEpoch), .text(event.data),
                        .integer(isKeyed ? 1 : 0), .text(origin.storedText),
                    ]
                )
            }
            try connection.run("COMMIT", [])
            return plan
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }

    /// Receipts of events already stored under `keys`: a retained event by id, else a remembered key.
    private static func lookUp(
        _ keys: Set<EventID>,
        at time: Timestamp,
        _ windows: IdempotencyWindows,
        _ connection: SQLiteDirectConnection
    ) throws -> [EventID: AppendReceipt] {
        var found: [EventID: AppendReceipt] = [:]
        let cutoffs = windows.cutoffs(at: time)
        for key in keys {
            var stored: (channel: String, offset: Int64, time: Int64)?
            try connection.run(
                Statements.lookUp,
                [.text(key.rawValue), .integer(cutoffs.inbound), .integer(cutoffs.publish)]
            ) { row in
                if stored == nil { stored = (row.text(0), row.integer(1), row.integer(2)) }
            }
            guard let stored else { continue }
            found[key] = AppendReceipt(
                id: key,
                channel: try ChannelName(stored.channel),
                offset: stored.offset,
                time: Timestamp(millisecondsSinceEpoch: stored.time),
                wasReplayed: true
            )
        }
        return found
    }

    /// The statements of a group commit, prepared once on the writer's connection.
    private enum Statements {
        static let head = "SELECT head FROM channels WHERE name = ?"
        static let insert =
            "INSERT INTO events (channel, \"offset\", id, type, time_ms, data, keyed, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        /// A retained event first, then a remembered key (binds: the id, then `cutoffSQL`'s two).
        static let lookUp = """
            SELECT channel, "offset", time_ms FROM events WHERE id = ?1
            UNION ALL
            SELECT channel, "offset", time_ms FROM idempotency_keys WHERE id = ?1
                AND time_ms >= \(IdempotencyWindows.cutoffSQL)
            """
    }
}

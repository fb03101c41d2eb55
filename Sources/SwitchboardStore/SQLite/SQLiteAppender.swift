import Logging
import SQLiteNIO
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

    mutating func commit(_ group: [PendingAppend], on connection: SQLiteConnection, logger: Logger) async {
        if refusesAppends {
            for pending in group { pending.continuation.resume(throwing: StoreError("no event log is attached")) }
            return
        }
        do {
            let outcomes = try await transact(group, on: connection)
            onCommit(outcomes.flatMap { (try? $0.get())?.appended ?? [] })
            for (pending, outcome) in zip(group, outcomes) {
                pending.continuation.resume(with: outcome)
            }
        } catch {
            _ = try? await connection.query("ROLLBACK")
            logger.error("group commit failed", metadata: ["sb.error": "\(error)", "sb.calls": "\(group.count)"])
            for pending in group {
                pending.continuation.resume(throwing: StoreError("append failed: \(error)"))
            }
        }
    }

    private mutating func transact(_ group: [PendingAppend], on connection: SQLiteConnection) async throws
        -> [Result<AppendOutcome, any Error>]
    {
        let time = now()
        let keys = Set(group.flatMap { $0.drafts.compactMap(\.idempotencyKey) })
        // The writer is the only one writing: what these reads see stays true until its INSERT.
        let existing = try await lookUp(keys, at: time, on: connection)
        try await loadHeads(Set(group.flatMap { $0.drafts.map(\.channel) }), on: connection)
        var generator = random
        let plan = AppendPlan(
            calls: group.map(\.drafts),
            existing: existing,
            heads: heads,
            time: time,
            using: &generator
        )
        var eventRows: [SQLiteData] = []
        eventRows.reserveCapacity(plan.events.count * 8)
        for ((event, isKeyed), origin) in zip(zip(plan.events, plan.isKeyed), plan.origins) {
            eventRows += [
                .text(event.channel.rawValue), .integer(Int(event.offset)), .text(event.id.rawValue),
                .text(event.type.rawValue), .integer(Int(time.millisecondsSinceEpoch)), .text(event.data),
                .integer(isKeyed ? 1 : 0), .text(origin.storedText),
            ]
        }
        // Triggers advance the channel heads and remember keys (migration 2). One statement commits on
        // its own; a group too large for one statement is wrapped in a transaction.
        let insert = "INSERT INTO events (channel, \"offset\", id, type, time_ms, data, keyed, origin) VALUES "
        let fitsOneStatement = eventRows.count <= SQLiteConnection.maximumBoundValues
        if !fitsOneStatement { _ = try await connection.query("BEGIN IMMEDIATE") }
        try await connection.insertRows(insert, columns: 8, rows: eventRows)
        if !fitsOneStatement { _ = try await connection.query("COMMIT") }
        heads = plan.heads
        return plan.outcomes.map { $0.mapError { $0 as any Error } }
    }

    /// Receipts of events already stored under `keys`: retained events by id, then remembered keys.
    private func lookUp(_ keys: Set<EventID>, at time: Timestamp, on connection: SQLiteConnection) async throws
        -> [EventID: AppendReceipt]
    {
        guard !keys.isEmpty else { return [:] }
        var found: [EventID: AppendReceipt] = [:]
        let binds = keys.map { SQLiteData.text($0.rawValue) }
        for chunk in binds.chunked(by: 500) {
            let placeholders = SQLiteConnection.placeholders(chunk.count)
            let rows = try await connection.query(
                """
                SELECT id, channel, "offset", time_ms FROM events WHERE id IN (\(placeholders))
                UNION ALL
                SELECT id, channel, "offset", time_ms FROM idempotency_keys WHERE id IN (\(placeholders))
                    AND time_ms >= \(IdempotencyWindows.cutoffSQL)
                """,
                chunk + chunk + idempotencyWindows.cutoffBinds(at: time)
            )
            for row in rows {
                guard let id = row.column("id")?.string, let channel = row.column("channel")?.string,
                    let offset = row.column("offset")?.integer, let ms = row.column("time_ms")?.integer
                else { continue }
                let receipt = AppendReceipt(
                    id: EventID(stored: id),
                    channel: try ChannelName(channel),
                    offset: Int64(offset),
                    time: Timestamp(millisecondsSinceEpoch: Int64(ms)),
                    wasReplayed: true
                )
                found[receipt.id] = found[receipt.id] ?? receipt
            }
        }
        return found
    }

    private mutating func loadHeads(_ channels: Set<ChannelName>, on connection: SQLiteConnection) async throws {
        let missing = channels.filter { heads[$0] == nil }
        guard !missing.isEmpty else { return }
        for chunk in missing.map({ SQLiteData.text($0.rawValue) }).chunked(by: 500) {
            let placeholders = SQLiteConnection.placeholders(chunk.count)
            let rows = try await connection.query(
                "SELECT name, head FROM channels WHERE name IN (\(placeholders))",
                chunk
            )
            for row in rows {
                if let name = row.column("name")?.string, let head = row.column("head")?.integer {
                    heads[try ChannelName(name)] = Int64(head)
                }
            }
        }
        for channel in missing where heads[channel] == nil {
            heads[channel] = 0
        }
    }

}

extension Array {
    /// Consecutive slices of at most `size` elements.
    func chunked(by size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}

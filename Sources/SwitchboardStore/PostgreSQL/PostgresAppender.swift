import Logging
import PostgresNIO
import SwitchboardCore

/// Commits a group of appends in one PostgreSQL transaction, safely beside other nodes doing the same.
///
/// The channels' rows are locked in name order (`FOR UPDATE`), so two nodes appending to one channel
/// take turns: the second reads the head the first committed, its offsets follow without a gap, and
/// they become visible in offset order. Idempotency keys are looked up after the locks, so a key
/// stored by another node on the same channel is seen; a key stored at the same moment on another
/// channel hits the unique index, and the whole group is tried again (and then finds it).
struct PostgresAppender: Sendable {
    let storage: PostgresStorage
    let idempotencyWindows: IdempotencyWindows
    let now: @Sendable () -> Timestamp
    let random: RandomBitsGenerator
    let onCommit: @Sendable ([Event]) -> Void
    /// Channels whose row this node has seen exist (rows are never deleted): no statement creates
    /// them again.
    private var knownChannels: Set<String> = []

    /// How often a group is tried again after a deadlock or a key stored concurrently by another node.
    static let attempts = 5

    init(
        storage: PostgresStorage,
        idempotencyWindows: IdempotencyWindows,
        now: @escaping @Sendable () -> Timestamp,
        random: RandomBitsGenerator,
        onCommit: @escaping @Sendable ([Event]) -> Void
    ) {
        self.storage = storage
        self.idempotencyWindows = idempotencyWindows
        self.now = now
        self.random = random
        self.onCommit = onCommit
    }

    mutating func commit(_ group: [PendingAppend]) async {
        var attempt = 1
        while true {
            do {
                // A commit the database leaves unanswered must not hold every later publish (see
                // `StoreDeadline`): its appends fail as after a lost connection.
                let appender = self
                let (outcomes, known) = try await StoreDeadline.run("a group commit") {
                    var appender = appender
                    let outcomes = try await appender.transact(group)
                    return (outcomes, appender.knownChannels)
                }
                knownChannels = known
                onCommit(outcomes.flatMap { (try? $0.get())?.appended ?? [] })
                for (pending, outcome) in zip(group, outcomes) { pending.resume(with: outcome) }
                return
            } catch  where Self.isWorthRetrying(error) && attempt < Self.attempts {
                attempt += 1
            } catch {
                storage.logger.error(
                    "group commit failed",
                    metadata: ["sb.error": "\(postgresErrorText(error))", "sb.calls": "\(group.count)"]
                )
                for pending in group {
                    pending.resume(throwing: StoreError("append failed: \(postgresErrorText(error))"))
                }
                return
            }
        }
    }

    /// A deadlock, a serialization failure or a unique violation (an idempotency key another node
    /// stored meanwhile): the transaction rolled back whole, and running it again is right.
    static func isWorthRetrying(_ error: any Error) -> Bool {
        if let error = error as? PostgresTransactionError {
            return (error.closureError ?? error.commitError).map(isWorthRetrying) ?? false
        }
        guard let error = error as? PSQLError, error.code == .server, let state = error.serverInfo?[.sqlState] else {
            return false
        }
        return ["40P01", "40001", "23505"].contains(state)
    }

    private mutating func transact(_ group: [PendingAppend]) async throws -> [Result<AppendOutcome, any Error>] {
        let channels = Array(Set(group.flatMap { $0.drafts.map(\.channel.rawValue) })).sorted()
        let unknown = channels.filter { !knownChannels.contains($0) }
        if !unknown.isEmpty {
            // Rows for new channels first, in a statement of their own: creating a row locks it, and a
            // lock taken out of name order inside the transaction could deadlock with another node.
            try await storage.query(
                "INSERT INTO channels (name, head) SELECT unnest(\(unknown)::text[]), 0 ON CONFLICT (name) DO NOTHING"
            )
            knownChannels.formUnion(unknown)
        }
        let logger = storage.logger
        return try await storage.transaction { connection in
            var heads: [ChannelName: Int64] = [:]
            let locked = try await connection.query(
                "SELECT name, head FROM channels WHERE name = ANY(\(channels)::text[]) ORDER BY name FOR UPDATE",
                logger: logger
            )
            for try await (name, head) in locked.decode((String, Int64).self) {
                heads[try ChannelName(name)] = head
            }
            let time = now()
            let keys = Array(Set(group.flatMap { $0.drafts.compactMap(\.idempotencyKey?.rawValue) }))
            let existing = try await lookUp(keys, at: time, on: connection, logger: logger)
            var generator = random
            let plan = AppendPlan(
                calls: group.map(\.drafts),
                existing: existing,
                heads: heads,
                time: time,
                using: &generator
            )
            try await insert(plan, at: time, on: connection, logger: logger)
            return plan.outcomes.map { $0.mapError { $0 as any Error } }
        }
    }

    private func insert(
        _ plan: AppendPlan,
        at time: Timestamp,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        guard !plan.events.isEmpty else { return }
        let events = plan.events
        let ms = time.millisecondsSinceEpoch
        try await connection.query(
            """
            INSERT INTO events (channel, "offset", id, type, time_ms, data, origin)
            SELECT c, o, i, t, \(ms), d, g
            FROM unnest(\(events.map(\.channel.rawValue))::text[], \(events.map(\.offset))::int8[],
                        \(events.map(\.id.rawValue))::text[], \(events.map(\.type.rawValue))::text[],
                        \(events.map(\.data))::text[], \(plan.origins.map(\.storedText))::text[])
                AS u(c, o, i, t, d, g)
            """,
            logger: logger
        )
        let heads = plan.heads.sorted { $0.key.rawValue < $1.key.rawValue }
        try await connection.query(
            """
            UPDATE channels SET head = u.h
            FROM unnest(\(heads.map(\.key.rawValue))::text[], \(heads.map(\.value))::int8[]) AS u(n, h)
            WHERE name = u.n AND head < u.h
            """,
            logger: logger
        )
        let keyed = zip(events, plan.isKeyed).filter(\.1).map(\.0)
        guard !keyed.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO idempotency_keys (id, channel, "offset", time_ms)
            SELECT i, c, o, \(ms)
            FROM unnest(\(keyed.map(\.id.rawValue))::text[], \(keyed.map(\.channel.rawValue))::text[],
                        \(keyed.map(\.offset))::int8[]) AS u(i, c, o)
            ON CONFLICT (id) DO UPDATE
                SET channel = excluded.channel, "offset" = excluded."offset", time_ms = excluded.time_ms
            """,
            logger: logger
        )
    }

    /// Receipts of events already stored under `keys`: retained events by id, then remembered keys.
    private func lookUp(
        _ keys: [String],
        at time: Timestamp,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> [EventID: AppendReceipt] {
        guard !keys.isEmpty else { return [:] }
        let inbound = time.millisecondsSinceEpoch - idempotencyWindows.inboundMilliseconds
        let publish = time.millisecondsSinceEpoch - idempotencyWindows.publishMilliseconds
        let rows = try await connection.query(
            """
            SELECT id, channel, "offset", time_ms, 0 AS rank FROM events WHERE id = ANY(\(keys)::text[])
            UNION ALL
            SELECT id, channel, "offset", time_ms, 1 AS rank FROM idempotency_keys
            WHERE id = ANY(\(keys)::text[])
              AND time_ms >= CASE WHEN starts_with(id, \(EventID.inboundPrefix)) THEN \(inbound) ELSE \(publish) END
            ORDER BY rank
            """,
            logger: logger
        )
        var found: [EventID: AppendReceipt] = [:]
        for try await (id, channel, offset, ms, _) in rows.decode((String, String, Int64, Int64, Int).self) {
            let receipt = AppendReceipt(
                id: EventID(stored: id),
                channel: try ChannelName(channel),
                offset: offset,
                time: Timestamp(millisecondsSinceEpoch: ms),
                wasReplayed: true
            )
            found[receipt.id] = found[receipt.id] ?? receipt
        }
        return found
    }
}

import Logging
import PostgresNIO
public import SwitchboardCore

/// `EventLog` on PostgreSQL: appends through the node's group-commit writer, reads on pooled
/// connections. Several nodes may append to the same channels at once (see `PostgresAppender`).
public final class PostgresEventLog: EventLog {
    private let storage: PostgresStorage
    private let idempotencyWindows: IdempotencyWindows
    /// The node's writer; run it (it is a `Service`) for appends to complete.
    public let writer: PostgresAppendWriter

    /// Attaches the log to `storage`; event ids are drawn from `random`, and `onCommit` receives the
    /// events this node committed, in commit order.
    public init(
        storage: PostgresStorage,
        configuration: StoreConfiguration,
        now: @escaping @Sendable () -> Timestamp,
        random: RandomBitsGenerator,
        onCommit: @escaping @Sendable ([Event]) -> Void
    ) {
        self.storage = storage
        let windows = IdempotencyWindows(configuration)
        self.idempotencyWindows = windows
        self.writer = PostgresAppendWriter(
            appender: PostgresAppender(
                storage: storage,
                idempotencyWindows: windows,
                now: now,
                random: random,
                onCommit: onCommit
            ),
            maximumGroupEvents: configuration.maximumGroupEvents,
            maximumQueuedBytes: configuration.maximumQueuedAppendBytes
        )
    }

    /// Appends drafts in the next group commit and calls `completion` with the outcome; see
    /// `EventLog.append(_:then:)`.
    public func append(
        _ drafts: [EventDraft],
        then completion: @escaping @Sendable (Result<AppendOutcome, any Error>) -> Void
    ) {
        guard !drafts.isEmpty else { return completion(.success(AppendOutcome(receipts: [], appended: []))) }
        writer.append(drafts, then: completion)
    }

    /// The last offset assigned in `channel`.
    public func head(of channel: ChannelName) async throws -> Int64 {
        try await StoreDeadline.run("reading a channel's head") { try await self.readHead(of: channel) }
    }

    private func readHead(of channel: ChannelName) async throws -> Int64 {
        let rows = try await storage.query("SELECT head FROM channels WHERE name = \(channel.rawValue)")
        for try await head in rows.decode(Int64.self) { return head }
        return 0
    }

    /// The heads of `channels`, in one statement.
    public func heads(of channels: [ChannelName]) async throws -> [ChannelName: Int64] {
        try await StoreDeadline.run("reading channels' heads") { try await self.readHeads(of: channels) }
    }

    private func readHeads(of channels: [ChannelName]) async throws -> [ChannelName: Int64] {
        var heads = Dictionary(channels.map { ($0, Int64(0)) }, uniquingKeysWith: { first, _ in first })
        guard !channels.isEmpty else { return heads }
        let names = channels.map(\.rawValue)
        let rows = try await storage.query("SELECT name, head FROM channels WHERE name = ANY(\(names))")
        for try await (name, head) in rows.decode((String, Int64).self) {
            if let channel = try? ChannelName(name) { heads[channel] = head }
        }
        return heads
    }

    /// See `EventLog.channels(withPrefix:endingWith:)` (`starts_with`, whatever the collation).
    public func channels(withPrefix prefix: String, endingWith type: EventType) async throws -> [ChannelName] {
        try await StoreDeadline.run("reading journals' states") {
            let rows = try await self.storage.query(
                """
                SELECT c.name FROM channels c JOIN events e ON e.channel = c.name AND e."offset" = c.head
                WHERE starts_with(c.name, \(prefix)) AND e.type = \(type.rawValue)
                """
            )
            var channels: [ChannelName] = []
            for try await name in rows.decode(String.self) {
                if let channel = try? ChannelName(name) { channels.append(channel) }
            }
            return channels
        }
    }

    /// Reads a page of `channel` after `after`; see `EventLog.read`. Two statements, each on its own
    /// snapshot, as on SQLite: `HistoryRead` makes a consistent page of what they saw.
    public func read(channel: ChannelName, after: Int64, limit: Int, maximumBytes: Int) async throws -> HistoryPage {
        try await StoreDeadline.run("reading the log") {
            try await self.readPage(channel: channel, after: after, limit: limit, maximumBytes: maximumBytes)
        }
    }

    /// The retained event with this id, and its origin.
    public func storedEvent(id: EventID) async throws -> StoredEvent? {
        try await StoreDeadline.run("reading an event") {
            let rows = try await self.storage.query(
                """
                SELECT channel, "offset", type, time_ms, data, origin FROM events WHERE id = \(id.rawValue)
                """
            )
            for try await (channel, offset, type, ms, data, origin) in rows.decode(
                (String, Int64, String, Int64, String, String?).self
            ) {
                let event = Event(
                    id: id,
                    channel: try ChannelName(channel),
                    offset: offset,
                    type: try EventType(type),
                    time: Timestamp(millisecondsSinceEpoch: ms),
                    data: data
                )
                return StoredEvent(event: event, origin: origin.flatMap(EventOrigin.init(storedText:)))
            }
            return nil
        }
    }

    private func readPage(channel: ChannelName, after: Int64, limit: Int, maximumBytes: Int) async throws
        -> HistoryPage
    {
        var head: Int64 = 0
        var earliest: Int64 = 1
        let rows = try await storage.query("SELECT head, earliest FROM channels WHERE name = \(channel.rawValue)")
        for try await (h, e) in rows.decode((Int64, Int64).self) { (head, earliest) = (h, e) }
        let read = HistoryRead(channel: channel, after: after, head: head, earliest: earliest)
        let bytes = Int64(max(1, maximumBytes))
        // The running size of `data` before each row decides, in the query, where the page stops (the
        // first row always stays): a page of large events is never loaded whole.
        let eventRows = try await storage.query(
            """
            SELECT "offset", id, type, time_ms, data FROM (
                SELECT "offset", id, type, time_ms, data,
                    sum(octet_length(data)) OVER (ORDER BY "offset" ROWS UNBOUNDED PRECEDING)
                        - octet_length(data) AS before
                FROM events WHERE channel = \(channel.rawValue) AND "offset" > \(read.start)
                ORDER BY "offset" LIMIT \(max(1, limit))
            ) page WHERE before < \(bytes) ORDER BY "offset"
            """
        )
        var events: [Event] = []
        for try await (offset, id, type, ms, data) in eventRows.decode((Int64, String, String, Int64, String).self) {
            events.append(
                Event(
                    id: EventID(stored: id),
                    channel: channel,
                    offset: offset,
                    type: try EventType(type),
                    time: Timestamp(millisecondsSinceEpoch: ms),
                    data: data
                )
            )
        }
        return read.page(events)
    }

    /// Applies retention and forgets expired idempotency keys, on one node at a time: a node that finds
    /// another one trimming leaves it to that one (0 removed).
    public func trim(policies: NamespacePolicies, now: Timestamp) async throws -> Int {
        let windows = idempotencyWindows
        let logger = storage.logger
        return try await storage.transaction { connection in
            guard try await AdvisoryLock.retention.tryTake(on: connection, logger: logger) else { return 0 }
            var channels: [(String, Int64)] = []
            for try await row in try await connection.query("SELECT name, head FROM channels", logger: logger)
                .decode((String, Int64).self)
            {
                channels.append(row)
            }
            var removed = 0
            for (name, head) in channels {
                guard let channel = try? ChannelName(name) else { continue }
                let policy = policies.policy(for: channel)
                guard policy.retentionCount != nil || policy.retentionSeconds != nil else { continue }
                // Offsets at or below `countCut`, and times before `timeCut`, go (-1 / min: no such rule).
                let countCut = policy.retentionCount.map { head - Int64($0) } ?? -1
                let timeCut = policy.retentionSeconds.map { now.millisecondsSinceEpoch - Int64($0) * 1000 } ?? Int64.min
                // Events still owed to an enabled webhook endpoint stay until delivered (or dead); so does
                // a state journal's newest (`ChannelName.retentionKeepsNewest`).
                let kept = channel.retentionKeepsNewest ? head : Int64.max
                let deleted = try await connection.query(
                    """
                    WITH gone AS (
                        DELETE FROM events WHERE channel = \(name)
                        AND ("offset" <= \(countCut) OR time_ms < \(timeCut))
                        AND "offset" < COALESCE((
                            SELECT MIN(d."offset") FROM endpoints e
                            JOIN deliveries d ON d.endpoint_id = e.id AND d.channel = \(name)
                                AND d.next_attempt_ms IS NOT NULL AND d.data IS NULL
                            WHERE e.enabled), 9223372036854775807)
                        AND "offset" < \(kept)
                        RETURNING 1
                    )
                    SELECT count(*) FROM gone
                    """,
                    logger: logger
                )
                var count = 0
                for try await value in deleted.decode(Int.self) { count = value }
                guard count > 0 else { continue }
                removed += count
                try await connection.query(
                    """
                    UPDATE channels SET earliest = COALESCE(
                        (SELECT MIN("offset") FROM events WHERE channel = \(name)), head + 1) WHERE name = \(name)
                    """,
                    logger: logger
                )
            }
            let inbound = now.millisecondsSinceEpoch - windows.inboundMilliseconds
            let publish = now.millisecondsSinceEpoch - windows.publishMilliseconds
            try await connection.query(
                """
                DELETE FROM idempotency_keys WHERE time_ms < \(inbound) AND starts_with(id, \(EventID.inboundPrefix))
                """,
                logger: logger
            )
            try await connection.query(
                """
                DELETE FROM idempotency_keys WHERE time_ms < \(publish) AND NOT starts_with(id, \(EventID.inboundPrefix))
                """,
                logger: logger
            )
            return removed
        }
    }

    /// Whether the database answers.
    public func checkReadiness() async -> Bool {
        guard let rows = try? await storage.query("SELECT 1") else { return false }
        return (try? await rows.decode(Int.self).reduce(0, +)) == 1
    }
}

import Logging
import SQLiteNIO
public import SwitchboardCore

/// `EventLog` on the embedded SQLite database: appends through the group-commit writer, reads on
/// reader connections.
public final class SQLiteEventLog: EventLog {
    private let database: SQLiteStorage
    private let idempotencyWindows: IdempotencyWindows

    /// Attaches the log to `database`; event ids are drawn from `random`, and `onCommit` receives
    /// committed events in commit order.
    public init(
        database: SQLiteStorage,
        configuration: StoreConfiguration,
        now: @escaping @Sendable () -> Timestamp,
        random: RandomBitsGenerator,
        onCommit: @escaping @Sendable ([Event]) -> Void
    ) {
        self.database = database
        self.idempotencyWindows = IdempotencyWindows(configuration)
        database.writer.install(
            SQLiteAppender(
                maximumGroupEvents: configuration.maximumGroupEvents,
                idempotencyWindows: idempotencyWindows,
                now: now,
                random: random,
                onCommit: onCommit
            )
        )
    }

    /// Appends drafts in the next group commit and calls `completion` with the outcome; see
    /// `EventLog.append(_:then:)`.
    public func append(
        _ drafts: [EventDraft],
        then completion: @escaping @Sendable (Result<AppendOutcome, any Error>) -> Void
    ) {
        guard !drafts.isEmpty else { return completion(.success(AppendOutcome(receipts: [], appended: []))) }
        database.writer.append(drafts, then: completion)
    }

    /// The last offset assigned in `channel`.
    public func head(of channel: ChannelName) async throws -> Int64 {
        let rows = try await database.read("SELECT head FROM channels WHERE name = ?", [.text(channel.rawValue)])
        return Int64(rows.first?.column("head")?.integer ?? 0)
    }

    /// See `EventLog.channels(withPrefix:endingWith:)`: one range scan of the channels' primary key.
    public func channels(withPrefix prefix: String, endingWith type: EventType) async throws -> [ChannelName] {
        let rows = try await database.read(
            """
            SELECT c.name AS name FROM channels c JOIN events e ON e.channel = c.name AND e."offset" = c.head
            WHERE c.name >= ? AND c.name < ? AND e.type = ?
            """,
            [.text(prefix), .text(ChannelPrefix.upperBound(of: prefix)), .text(type.rawValue)]
        )
        return rows.compactMap { $0.column("name")?.string.flatMap { try? ChannelName($0) } }
    }

    /// The retained event with this id, and its origin.
    public func storedEvent(id: EventID) async throws -> StoredEvent? {
        let rows = try await database.read(
            "SELECT channel, \"offset\", type, time_ms, data, origin FROM events WHERE id = ?",
            [.text(id.rawValue)]
        )
        guard let row = rows.first else { return nil }
        guard let channel = row.column("channel")?.string, let offset = row.column("offset")?.integer,
            let type = row.column("type")?.string, let ms = row.column("time_ms")?.integer,
            let data = row.column("data")?.string
        else { throw StoreError("malformed event row for \(id.rawValue)") }
        let event = Event(
            id: id,
            channel: try ChannelName(channel),
            offset: Int64(offset),
            type: try EventType(type),
            time: Timestamp(millisecondsSinceEpoch: Int64(ms)),
            data: data
        )
        return StoredEvent(event: event, origin: row.column("origin")?.string.flatMap(EventOrigin.init(storedText:)))
    }

    /// Reads a page of `channel` after `after`; see `EventLog.read`.
    public func read(channel: ChannelName, after: Int64, limit: Int, maximumBytes: Int) async throws -> HistoryPage {
        let rows = try await database.read(
            "SELECT head, earliest FROM channels WHERE name = ?",
            [.text(channel.rawValue)]
        )
        let read = HistoryRead(
            channel: channel,
            after: after,
            head: Int64(rows.first?.column("head")?.integer ?? 0),
            earliest: Int64(rows.first?.column("earliest")?.integer ?? 1)
        )
        let binds: [SQLiteData] = [.text(channel.rawValue), .integer(Int(read.start)), .integer(max(1, limit))]
        let eventRows: [SQLiteRow]
        if maximumBytes < .max {
            // The running size of `data` before each row decides, in the query, where the page stops
            // (the first row always stays: nothing comes before it): a page of large events is never
            // loaded whole.
            eventRows = try await database.read(
                """
                SELECT "offset", id, type, time_ms, data FROM (
                    SELECT "offset", id, type, time_ms, data,
                        sum(length(CAST(data AS BLOB))) OVER (ORDER BY "offset" ROWS UNBOUNDED PRECEDING)
                            - length(CAST(data AS BLOB)) AS before
                    FROM events WHERE channel = ? AND "offset" > ? ORDER BY "offset" LIMIT ?
                ) WHERE before < ? ORDER BY "offset"
                """,
                binds + [.integer(max(1, maximumBytes))]
            )
        } else {
            eventRows = try await database.read(
                """
                SELECT "offset", id, type, time_ms, data FROM events
                WHERE channel = ? AND "offset" > ? ORDER BY "offset" LIMIT ?
                """,
                binds
            )
        }
        var events: [Event] = []
        events.reserveCapacity(eventRows.count)
        for row in eventRows {
            guard let offset = row.column("offset")?.integer, let id = row.column("id")?.string,
                let type = row.column("type")?.string, let ms = row.column("time_ms")?.integer,
                let data = row.column("data")?.string
            else { throw StoreError("malformed event row in \(channel)") }
            events.append(
                Event(
                    id: EventID(stored: id),
                    channel: channel,
                    offset: Int64(offset),
                    type: try EventType(type),
                    time: Timestamp(millisecondsSinceEpoch: Int64(ms)),
                    data: data
                )
            )
        }
        return read.page(events)
    }

    /// Applies retention and forgets expired idempotency keys.
    public func trim(policies: NamespacePolicies, now: Timestamp) async throws -> Int {
        let windows = idempotencyWindows
        return try await database.writer.exclusive { connection in
            let channels = try await connection.query("SELECT name, head FROM channels")
            return try await connection.transaction {
                var removed = 0
                for row in channels {
                    guard let name = row.column("name")?.string, let head = row.column("head")?.integer,
                        let channel = try? ChannelName(name)
                    else { continue }
                    let policy = policies.policy(for: channel)
                    var conditions: [String] = []
                    var binds: [SQLiteData] = [.text(name)]
                    if let count = policy.retentionCount {
                        conditions.append("\"offset\" <= ?")
                        binds.append(.integer(head - count))
                    }
                    if let seconds = policy.retentionSeconds {
                        conditions.append("time_ms < ?")
                        binds.append(.integer(Int(now.millisecondsSinceEpoch) - seconds * 1000))
                    }
                    guard !conditions.isEmpty else { continue }
                    // Events still owed to an enabled webhook endpoint stay until delivered (or dead); so
                    // does a state journal's newest (`ChannelName.retentionKeepsNewest`).
                    let kept = channel.retentionKeepsNewest ? head : Int.max
                    let deleted = try await connection.query(
                        """
                        DELETE FROM events WHERE channel = ? AND (\(conditions.joined(separator: " OR ")))
                        AND "offset" < COALESCE((
                            SELECT MIN(d."offset") FROM endpoints e
                            JOIN deliveries d ON d.endpoint_id = e.id AND d.channel = ? AND d.next_attempt_ms IS NOT NULL
                                AND d.data IS NULL
                            WHERE e.enabled = 1), 9223372036854775807)
                        AND "offset" < ?
                        RETURNING "offset"
                        """,
                        binds + [.text(name), .integer(kept)]
                    )
                    guard !deleted.isEmpty else { continue }
                    removed += deleted.count
                    _ = try await connection.query(
                        """
                        UPDATE channels SET earliest = COALESCE(
                            (SELECT MIN("offset") FROM events WHERE channel = ?), head + 1) WHERE name = ?
                        """,
                        [.text(name), .text(name)]
                    )
                }
                // Each delete ranges over the time index (a CASE would scan the whole table), and each class
                // of key is forgotten after its own window, whichever of the two is longer.
                _ = try await connection.query(
                    "DELETE FROM idempotency_keys WHERE time_ms < ? AND \(IdempotencyWindows.isInboundSQL)",
                    [.integer(Int(windows.cutoffs(at: now).inbound))]
                )
                _ = try await connection.query(
                    "DELETE FROM idempotency_keys WHERE time_ms < ? AND NOT (\(IdempotencyWindows.isInboundSQL))",
                    [.integer(Int(windows.cutoffs(at: now).publish))]
                )
                return removed
            }
        }
    }

    /// Whether a reader connection answers.
    public func checkReadiness() async -> Bool {
        (try? await database.read("SELECT 1 AS ok").first?.column("ok")?.integer) == 1
    }
}

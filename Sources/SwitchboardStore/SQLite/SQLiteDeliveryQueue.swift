import NIOConcurrencyHelpers
import SQLiteNIO
public import SwitchboardCore

/// `DeliveryQueue` on the embedded SQLite database. Candidates are read on reader connections and
/// attempts are written by the writer in batches (one transaction per batch).
///
/// Leases live in memory: one process owns the database file, so a lease only has to hold against
/// this process's own claims, and a crash (which loses them) is exactly when they must be given back.
/// A claim therefore costs one read and no write.
public final class SQLiteDeliveryQueue: DeliveryQueue {
    private let database: SQLiteStorage
    private let recorder: AttemptBatcher
    /// Leased deliveries (by row id) and when each lease runs out (milliseconds since the epoch).
    private let leases = NIOLockedValueBox<[Int: Int64]>([:])

    /// Uses `database`.
    public init(database: SQLiteStorage) {
        self.database = database
        self.recorder = AttemptBatcher { batch in try await SQLiteAttemptWriter.write(batch, database: database) }
    }

    /// Gives back every lease.
    public func releaseLeases() async throws {
        leases.withLockedValue { $0.removeAll() }
    }

    /// The ids leased at `now`, as a JSON array for `json_each` (expired leases are dropped).
    private func leasedJSON(at now: Timestamp) -> SQLiteData {
        let ids = leases.withLockedValue { leases -> [Int] in
            leases = leases.filter { $0.value > now.millisecondsSinceEpoch }
            return Array(leases.keys)
        }
        return .text("[" + ids.map(String.init).joined(separator: ",") + "]")
    }

    /// Leases due deliveries; see `DeliveryQueue.claim`.
    public func claim(
        now: Timestamp,
        limit: Int,
        lease: Duration,
        skipping: Set<String>,
        admit: (ClaimedDelivery) -> Bool
    ) async throws -> [ClaimedDelivery] {
        guard limit > 0 else { return [] }
        let nowBind = SQLiteData.integer(Int(now.millisecondsSinceEpoch))
        var binds: [SQLiteData] = [nowBind, leasedJSON(at: now)]
        var skipClause = ""
        if !skipping.isEmpty {
            skipClause =
                "AND d.endpoint_id NOT IN (\(SQLiteConnection.placeholders(skipping.count)))"
            binds += skipping.sorted().map { .text($0) }
        }
        binds.append(.integer(limit))
        // An ordered endpoint's delivery is a candidate only while it is its channel's lowest live one.
        let rows = try await database.read(
            """
            SELECT d.id, d.endpoint_id, d.event_id, d.channel, d."offset", d.type, d.event_time_ms, d.attempts,
                   d.round_start, e.updated_ms, COALESCE(d.data, ev.data) AS payload
            FROM deliveries d
            JOIN endpoints e ON e.id = d.endpoint_id
            LEFT JOIN events ev ON ev.channel = d.channel AND ev."offset" = d."offset" AND ev.id = d.event_id
            WHERE d.next_attempt_ms <= ? AND d.id NOT IN (SELECT value FROM json_each(?)) AND e.enabled = 1 \(skipClause)
              AND (e.ordered = 0 OR d."offset" = (
                    SELECT MIN(d2."offset") FROM deliveries d2
                    WHERE d2.endpoint_id = d.endpoint_id AND d2.channel = d.channel AND d2.next_attempt_ms IS NOT NULL))
            ORDER BY d.next_attempt_ms, d.id
            LIMIT ?
            """,
            binds
        )
        var claimed: [ClaimedDelivery] = []
        claimed.reserveCapacity(rows.count)
        for row in rows {
            let candidate = try Self.claimed(row)
            if admit(candidate) { claimed.append(candidate) }
        }
        let until = now.millisecondsSinceEpoch + lease.wholeMilliseconds
        return leases.withLockedValue { leases in
            claimed.filter { delivery in
                guard let row = DeliveryID.row(delivery.id), (leases[row] ?? 0) <= now.millisecondsSinceEpoch else {
                    return false
                }
                leases[row] = until
                return true
            }
        }
    }

    private static func claimed(_ row: SQLiteRow) throws -> ClaimedDelivery {
        guard let id = row.column("id")?.integer.map(DeliveryID.text), let endpoint = row.column("endpoint_id")?.string,
            let eventID = row.column("event_id")?.string, let channel = row.column("channel")?.string,
            let offset = row.column("offset")?.integer, let type = row.column("type")?.string,
            let time = row.column("event_time_ms")?.integer, let attempts = row.column("attempts")?.integer,
            let roundStart = row.column("round_start")?.integer, let updated = row.column("updated_ms")?.integer
        else { throw StoreError("malformed deliveries row") }
        let event = try row.column("payload")?.string.map { data in
            Event(
                id: EventID(stored: eventID),
                channel: try ChannelName(channel),
                offset: Int64(offset),
                type: try EventType(type),
                time: Timestamp(millisecondsSinceEpoch: Int64(time)),
                data: data
            )
        }
        return ClaimedDelivery(
            id: id,
            endpointID: endpoint,
            endpointUpdated: Timestamp(millisecondsSinceEpoch: Int64(updated)),
            event: event,
            eventID: eventID,
            attemptsMade: attempts,
            attemptsInRound: attempts - roundStart
        )
    }

    /// Records attempts in the next batch; see `DeliveryQueue.record`.
    public func record(_ results: [AttemptResult], now: Timestamp, disableFailingAfter: Duration) async throws
        -> [DisabledEndpoint]
    {
        let disabled = try await recorder.record(results, now: now, disableFailingAfter: disableFailingAfter)
        leases.withLockedValue { leases in
            for result in results { DeliveryID.row(result.delivery.id).map { leases[$0] = nil } }
        }
        return disabled
    }

    /// When the next live delivery not in flight is due.
    public func nextDue(now: Timestamp) async throws -> Timestamp? {
        // Leased deliveries are in flight: their next time comes from their attempt's record.
        let rows = try await database.read(
            """
            SELECT MIN(next_attempt_ms) AS due FROM deliveries
            WHERE next_attempt_ms IS NOT NULL AND id NOT IN (SELECT value FROM json_each(?))
            """,
            [leasedJSON(at: now)]
        )
        return rows.first?.column("due")?.integer.map { Timestamp(millisecondsSinceEpoch: Int64($0)) }
    }

    /// Deliveries still to be made.
    public func liveCount() async throws -> Int {
        try await database.read("SELECT COUNT(*) AS n FROM deliveries WHERE next_attempt_ms IS NOT NULL")
            .first?.column("n")?.integer ?? 0
    }

    /// One delivery with its attempts.
    public func delivery(id: String) async throws -> DeliveryRecord? {
        guard let row = DeliveryID.row(id) else { return nil }
        let rows = try await database.read("SELECT * FROM deliveries WHERE id = ?", [.integer(row)])
        return try await records(rows).first
    }

    /// An endpoint's deliveries, newest first.
    public func deliveries(endpoint: String, status: DeliveryStatus?, before: String?, limit: Int) async throws
        -> [DeliveryRecord]
    {
        var sql = "SELECT * FROM deliveries WHERE endpoint_id = ?"
        var binds: [SQLiteData] = [.text(endpoint)]
        if let status {
            sql += " AND status = ?"
            binds.append(.text(status.rawValue))
        }
        if let before {
            sql += " AND id < ?"
            binds.append(.integer(DeliveryID.row(before) ?? 0))
        }
        sql += " ORDER BY id DESC LIMIT ?"
        binds.append(.integer(max(1, limit)))
        return try await records(database.read(sql, binds))
    }

    /// Makes a delivery due now.
    public func retryNow(id: String, now: Timestamp) async throws -> DeliveryRecord? {
        guard let row = DeliveryID.row(id) else { return nil }
        let found = try await database.writer.exclusive { connection in
            try await !connection.query(
                """
                UPDATE deliveries SET next_attempt_ms = ?, updated_ms = ?,
                    status = CASE WHEN status IN ('succeeded', 'dead') THEN 'pending' ELSE status END
                WHERE id = ? RETURNING id
                """,
                [.integer(Int(now.millisecondsSinceEpoch)), .integer(Int(now.millisecondsSinceEpoch)), .integer(row)]
            ).isEmpty
        }
        return found ? try await delivery(id: id) : nil
    }

    /// Enqueues an endpoint's deliveries again with a fresh schedule.
    public func replay(endpoint: String, selection: ReplaySelection, now: Timestamp) async throws -> Int {
        let (condition, binds) = Self.condition(endpoint: endpoint, selection: selection)
        return try await database.writer.exclusive { connection in
            try await connection.query(
                """
                UPDATE deliveries SET status = 'pending', next_attempt_ms = ?, round_start = attempts, updated_ms = ?
                WHERE \(condition) RETURNING id
                """,
                [.integer(Int(now.millisecondsSinceEpoch)), .integer(Int(now.millisecondsSinceEpoch))] + binds
            ).count
        }
    }

    /// How many deliveries `replay` would enqueue again.
    public func countReplayable(endpoint: String, selection: ReplaySelection) async throws -> Int {
        let (condition, binds) = Self.condition(endpoint: endpoint, selection: selection)
        let rows = try await database.read("SELECT count(*) AS n FROM deliveries WHERE \(condition)", binds)
        return rows.first?.column("n")?.integer ?? 0
    }

    /// The `WHERE` clause of a replay's deliveries, with its values.
    private static func condition(endpoint: String, selection: ReplaySelection) -> (String, [SQLiteData]) {
        var sql = "endpoint_id = ?"
        var binds: [SQLiteData] = [.text(endpoint)]
        switch selection.range {
        case .since(let time):
            sql += " AND created_ms >= ?"
            binds.append(.integer(Int(time.millisecondsSinceEpoch)))
        case .offsets(let channel, let from, let through):
            sql += " AND channel = ? AND \"offset\" BETWEEN ? AND ?"
            binds += [.text(channel.rawValue), .integer(Int(from)), .integer(Int(through ?? Int64.max))]
        }
        if selection.onlyFailed { sql += " AND status IN ('failed', 'dead')" }
        return (sql, binds)
    }

    /// The deliveries of one event, oldest first.
    public func deliveries(event: String, limit: Int) async throws -> [DeliveryRecord] {
        try await records(
            database.read(
                "SELECT * FROM deliveries WHERE event_id = ? ORDER BY id LIMIT ?",
                [.text(event), .integer(max(1, limit))]
            )
        )
    }

    /// Removes old finished deliveries, oldest first; attempts go with them.
    public func trimFinished(before: Timestamp, limit: Int) async throws -> Int {
        try await database.writer.exclusive { connection in
            try await connection.query(
                """
                DELETE FROM deliveries WHERE id IN (
                    SELECT id FROM deliveries WHERE next_attempt_ms IS NULL AND updated_ms < ? ORDER BY id LIMIT ?)
                RETURNING id
                """,
                [.integer(Int(before.millisecondsSinceEpoch)), .integer(limit)]
            ).count
        }
    }

    /// Makes every waiting delivery of `endpoint` due now.
    public func expedite(endpoint: String, now: Timestamp) async throws {
        _ = try await database.writer.exclusive { connection in
            try await connection.query(
                "UPDATE deliveries SET next_attempt_ms = ? WHERE endpoint_id = ? AND next_attempt_ms > ?",
                [.integer(Int(now.millisecondsSinceEpoch)), .text(endpoint), .integer(Int(now.millisecondsSinceEpoch))]
            )
        }
    }

    /// Enqueues `event` for one endpoint without storing it in the log.
    public func enqueueDirect(endpoint: String, event: Event, now: Timestamp) async throws -> String {
        let ms = SQLiteData.integer(Int(now.millisecondsSinceEpoch))
        let rows = try await database.writer.exclusive { connection in
            try await connection.query(
                """
                INSERT INTO deliveries (endpoint_id, event_id, channel, "offset", type, event_time_ms, data,
                    next_attempt_ms, created_ms, updated_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
                """,
                [
                    .text(endpoint), .text(event.id.rawValue), .text(event.channel.rawValue),
                    .integer(Int(event.offset)), .text(event.type.rawValue),
                    .integer(Int(event.time.millisecondsSinceEpoch)), .text(event.data), ms, ms, ms,
                ]
            )
        }
        guard let row = rows.first?.column("id")?.integer else { throw StoreError("no delivery id returned") }
        return DeliveryID.text(row)
    }

    private func records(_ rows: [SQLiteRow]) async throws -> [DeliveryRecord] {
        guard !rows.isEmpty else { return [] }
        let ids = rows.compactMap { $0.column("id")?.integer }
        var attempts: [Int: [AttemptRecord]] = [:]
        for chunk in ids.map({ SQLiteData.integer($0) }).chunked(by: 500) {
            let placeholders = SQLiteConnection.placeholders(chunk.count)
            for row in try await database.read(
                "SELECT * FROM delivery_attempts WHERE delivery_id IN (\(placeholders)) ORDER BY delivery_id, number",
                chunk
            ) {
                guard let id = row.column("delivery_id")?.integer, let number = row.column("number")?.integer,
                    let time = row.column("time_ms")?.integer, let latency = row.column("latency_ms")?.integer
                else { throw StoreError("malformed delivery_attempts row") }
                attempts[id, default: []].append(
                    AttemptRecord(
                        number: number,
                        time: Timestamp(millisecondsSinceEpoch: Int64(time)),
                        status: row.column("status")?.integer,
                        latencyMilliseconds: Int64(latency),
                        error: row.column("error")?.string,
                        responseHeaders: row.column("response_headers")?.string.map(EndpointColumns.headers(fromJSON:))
                            ?? [],
                        responseBody: row.column("response_body")?.string
                    )
                )
            }
        }
        return try rows.map { row in
            guard let rowID = row.column("id")?.integer, let endpoint = row.column("endpoint_id")?.string,
                let event = row.column("event_id")?.string, let channel = row.column("channel")?.string,
                let offset = row.column("offset")?.integer, let type = row.column("type")?.string,
                let statusText = row.column("status")?.string, let status = DeliveryStatus(rawValue: statusText),
                let created = row.column("created_ms")?.integer
            else { throw StoreError("malformed deliveries row") }
            return DeliveryRecord(
                id: DeliveryID.text(rowID),
                endpointID: endpoint,
                eventID: event,
                channel: channel,
                offset: Int64(offset),
                type: type,
                status: status,
                nextAttempt: row.column("next_attempt_ms")?.integer.map {
                    Timestamp(millisecondsSinceEpoch: Int64($0))
                },
                created: Timestamp(millisecondsSinceEpoch: Int64(created)),
                // The attempts are read after the deliveries: a batch committed in between can add an
                // attempt the row's status does not reflect yet. Show only what the row counts, so the
                // status and the attempts always agree.
                attempts: (attempts[rowID] ?? []).filter { $0.number <= (row.column("attempts")?.integer ?? 0) }
            )
        }
    }
}

/// Delivery ids as the API shows them (`dlv_<row id>`) and back.
enum DeliveryID {
    /// `dlv_<row>`.
    static func text(_ row: Int) -> String { "dlv_\(row)" }

    /// The row id in `dlv_<row>`, or nil for anything else.
    static func row(_ text: String) -> Int? {
        guard text.hasPrefix("dlv_"), let row = Int(text.dropFirst(4)), row > 0 else { return nil }
        return row
    }
}

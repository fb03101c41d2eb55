import NIOConcurrencyHelpers
import SQLiteNIO
import SwitchboardCore

/// Writes a batch of finished attempts on the SQLite writer (`AttemptBatcher` does the batching).
enum SQLiteAttemptWriter {
    /// Writes `batch` in one transaction on the writer.
    static func write(_ batch: [AttemptBatcher.Pending], database: SQLiteStorage) async throws -> [[DisabledEndpoint]] {
        try await database.writer.exclusive { connection in
            try await connection.transaction {
                try await write(batch, on: connection)
            }
        }
    }

    /// Writes every attempt, the deliveries' new states and the endpoints' health; returns, per pending
    /// call, the endpoints it disabled.
    private static func write(_ batch: [AttemptBatcher.Pending], on connection: SQLiteConnection) async throws
        -> [[DisabledEndpoint]]
    {
        var attemptRows: [SQLiteData] = []
        for pending in batch {
            for result in pending.results {
                let attempt = result.attempt
                guard let row = DeliveryID.row(result.delivery.id) else { continue }
                attemptRows += [
                    .integer(row), .integer(attempt.number),
                    .integer(Int(attempt.time.millisecondsSinceEpoch)), attempt.status.map { .integer($0) } ?? .null,
                    .integer(Int(attempt.latencyMilliseconds)), attempt.error.map { .text($0) } ?? .null,
                    .text(EndpointColumns.headersJSON(attempt.responseHeaders)),
                    attempt.responseBody.map { .text($0) } ?? .null,
                ]
            }
        }
        try await connection.insertRows(
            "INSERT OR REPLACE INTO delivery_attempts (delivery_id, number, time_ms, status, latency_ms, error, "
                + "response_headers, response_body) VALUES ",
            columns: 8,
            rows: attemptRows
        )
        // Every delivery's new state in one statement per chunk.
        var stateRows: [SQLiteData] = []
        var succeededEndpoints: Set<String> = []
        for pending in batch {
            let now = SQLiteData.integer(Int(pending.now.millisecondsSinceEpoch))
            for result in pending.results {
                guard let row = DeliveryID.row(result.delivery.id) else { continue }
                stateRows += [
                    .integer(row), .text(result.status.rawValue), .integer(result.attempt.number),
                    result.nextAttempt.map { .integer(Int($0.millisecondsSinceEpoch)) } ?? .null, now,
                ]
                if result.attempt.succeeded { succeededEndpoints.insert(result.delivery.endpointID) }
            }
        }
        for chunk in stateRows.chunked(by: 5 * 1000) {
            let values = Array(repeating: "(?,?,?,?,?)", count: chunk.count / 5).joined(separator: ",")
            _ = try await connection.query(
                """
                UPDATE deliveries SET status = v.status, attempts = MAX(deliveries.attempts, v.number),
                    next_attempt_ms = v.next, updated_ms = v.now
                FROM (SELECT column1 AS id, column2 AS status, column3 AS number, column4 AS next, column5 AS now
                      FROM (VALUES \(values))) AS v
                WHERE deliveries.id = v.id
                """,
                chunk
            )
        }
        // A success ends the endpoint's failing streak.
        let healed = succeededEndpoints.sorted().map { SQLiteData.text($0) }
        for chunk in healed.chunked(by: 500) {
            let placeholders = SQLiteConnection.placeholders(chunk.count)
            _ = try await connection.query(
                "UPDATE endpoints SET failing_since_ms = NULL WHERE id IN (\(placeholders)) AND failing_since_ms IS NOT NULL",
                chunk
            )
        }
        var disabledPerCall: [[DisabledEndpoint]] = []
        for pending in batch {
            var disabled: [DisabledEndpoint] = []
            for result in pending.results where result.failedTheEndpoint {
                if let endpoint = try await updateHealth(
                    after: result,
                    now: pending.now,
                    disableFailingAfter: pending.disableFailingAfter,
                    on: connection
                ) {
                    disabled.append(endpoint)
                }
            }
            disabledPerCall.append(disabled)
        }
        return disabledPerCall
    }

    /// Starts (or continues) the endpoint's failing streak after a failed attempt; disables it after
    /// `410 Gone` or a streak longer than allowed. Returns the endpoint when this call disabled it.
    private static func updateHealth(
        after result: AttemptResult,
        now: Timestamp,
        disableFailingAfter: Duration,
        on connection: SQLiteConnection
    ) async throws -> DisabledEndpoint? {
        let endpoint = SQLiteData.text(result.delivery.endpointID)
        let nowBind = SQLiteData.integer(Int(now.millisecondsSinceEpoch))
        let rows = try await connection.query(
            """
            UPDATE endpoints SET failing_since_ms = COALESCE(failing_since_ms, ?)
            WHERE id = ? AND enabled = 1 RETURNING failing_since_ms, url
            """,
            [nowBind, endpoint]
        )
        guard let row = rows.first, let since = row.column("failing_since_ms")?.integer,
            let url = row.column("url")?.string
        else { return nil }
        guard
            let reason = EndpointHealth.reasonToDisable(
                after: result,
                failingSince: Int64(since),
                now: now,
                disableFailingAfter: disableFailingAfter
            )
        else { return nil }
        _ = try await connection.query(
            "UPDATE endpoints SET enabled = 0, disabled_reason = ?, updated_ms = ? WHERE id = ?",
            [.text(reason), nowBind, endpoint]
        )
        return DisabledEndpoint(id: result.delivery.endpointID, url: url, reason: reason)
    }
}

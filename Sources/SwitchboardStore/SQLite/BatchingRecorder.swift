import NIOConcurrencyHelpers
import SQLiteNIO
import SwitchboardCore

/// Writes finished attempts in batches: while one batch commits, the next collects, so a thousand
/// attempts finishing together share a few transactions (and fsyncs) instead of a thousand.
final class BatchingRecorder: Sendable {
    private struct Pending {
        let results: [AttemptResult]
        let now: Timestamp
        let disableFailingAfter: Duration
        let continuation: CheckedContinuation<[DisabledEndpoint], any Error>
    }

    private struct State {
        var pending: [Pending] = []
        var isFlushing = false
    }

    private let database: SQLiteStorage
    private let state = NIOLockedValueBox(State())

    init(database: SQLiteStorage) {
        self.database = database
    }

    func record(_ results: [AttemptResult], now: Timestamp, disableFailingAfter: Duration) async throws
        -> [DisabledEndpoint]
    {
        guard !results.isEmpty else { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            let startsFlush = state.withLockedValue { state -> Bool in
                state.pending.append(
                    Pending(
                        results: results,
                        now: now,
                        disableFailingAfter: disableFailingAfter,
                        continuation: continuation
                    )
                )
                guard !state.isFlushing else { return false }
                state.isFlushing = true
                return true
            }
            if startsFlush {
                Task { await self.flushUntilEmpty() }
            }
        }
    }

    private func flushUntilEmpty() async {
        while true {
            let batch = state.withLockedValue { state -> [Pending] in
                let batch = state.pending
                state.pending.removeAll()
                if batch.isEmpty { state.isFlushing = false }
                return batch
            }
            if batch.isEmpty { return }
            do {
                let disabled = try await database.writer.exclusive { connection in
                    try await connection.transaction {
                        try await Self.write(batch, on: connection)
                    }
                }
                for (pending, endpoints) in zip(batch, disabled) { pending.continuation.resume(returning: endpoints) }
            } catch {
                for pending in batch { pending.continuation.resume(throwing: error) }
            }
        }
    }

    /// Writes every attempt, the deliveries' new states and the endpoints' health; returns, per pending
    /// call, the endpoints it disabled.
    private static func write(_ batch: [Pending], on connection: SQLiteConnection) async throws -> [[DisabledEndpoint]]
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
            for result in pending.results where !result.attempt.succeeded {
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
        let reason: String
        if let gone = result.disablesEndpoint {
            reason = gone
        } else if now.millisecondsSinceEpoch - Int64(since) >= disableFailingAfter.wholeMilliseconds {
            reason = "every attempt failed for \(disableFailingAfter.wholeMilliseconds / 3_600_000) hours"
        } else {
            return nil
        }
        _ = try await connection.query(
            "UPDATE endpoints SET enabled = 0, disabled_reason = ?, updated_ms = ? WHERE id = ?",
            [.text(reason), nowBind, endpoint]
        )
        return DisabledEndpoint(id: result.delivery.endpointID, url: url, reason: reason)
    }
}

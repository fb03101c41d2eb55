import PostgresNIO
import SwitchboardCore

/// Writes a batch of finished attempts to PostgreSQL in one transaction (`AttemptBatcher` does the
/// batching). Only results for deliveries this node still holds are written.
enum PostgresAttemptWriter {
    static func write(_ batch: [AttemptBatcher.Pending], node: String, storage: PostgresStorage) async throws
        -> [[DisabledEndpoint]]
    {
        let logger = storage.logger
        return try await storage.transaction { connection in
            // The deliveries' new states, as one JSON document (it carries NULLs, which arrays of binds
            // would not); only where this node holds the lease.
            var states: [JSONValue] = []
            for pending in batch {
                for result in pending.results {
                    guard let row = DeliveryID.row(result.delivery.id) else { continue }
                    states.append(
                        .object([
                            ("id", .int(Int64(row))), ("status", .string(result.status.rawValue)),
                            ("number", .int(Int64(result.attempt.number))),
                            ("next", result.nextAttempt.map { .int($0.millisecondsSinceEpoch) } ?? .null),
                            ("now", .int(pending.now.millisecondsSinceEpoch)),
                        ])
                    )
                }
            }
            var held: Set<Int64> = []
            for try await id in try await connection.query(
                """
                UPDATE deliveries d SET status = v.status, attempts = GREATEST(d.attempts, v.number),
                    next_attempt_ms = v.next, updated_ms = v.now, lease_holder = NULL, lease_until_ms = NULL
                FROM json_to_recordset(\(JSONValue.array(states).jsonText)::json)
                    AS v(id bigint, status text, number int, next bigint, now bigint)
                WHERE d.id = v.id AND d.lease_holder = \(node)
                RETURNING d.id
                """,
                logger: logger
            ).decode(Int64.self) {
                held.insert(id)
            }
            var attempts: [JSONValue] = []
            var succeededEndpoints: Set<String> = []
            var failed: [(AttemptResult, Timestamp, Duration, Int)] = []
            for (index, pending) in batch.enumerated() {
                for result in pending.results {
                    guard let row = DeliveryID.row(result.delivery.id), held.contains(Int64(row)) else { continue }
                    let attempt = result.attempt
                    attempts.append(
                        .object([
                            ("id", .int(Int64(row))), ("number", .int(Int64(attempt.number))),
                            ("time", .int(attempt.time.millisecondsSinceEpoch)),
                            ("status", attempt.status.map { .int(Int64($0)) } ?? .null),
                            ("latency", .int(attempt.latencyMilliseconds)),
                            ("error", attempt.error.map { .string(withoutNUL($0)) } ?? .null),
                            ("headers", .string(withoutNUL(EndpointColumns.headersJSON(attempt.responseHeaders)))),
                            ("body", attempt.responseBody.map { .string(withoutNUL($0)) } ?? .null),
                        ])
                    )
                    if attempt.succeeded {
                        succeededEndpoints.insert(result.delivery.endpointID)
                    } else if result.failedTheEndpoint {
                        failed.append((result, pending.now, pending.disableFailingAfter, index))
                    }
                }
            }
            if !attempts.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO delivery_attempts (delivery_id, number, time_ms, status, latency_ms, error,
                        response_headers, response_body)
                    SELECT id, number, time, status, latency, error, headers, body
                    FROM json_to_recordset(\(JSONValue.array(attempts).jsonText)::json)
                        AS v(id bigint, number int, time bigint, status int, latency bigint, error text,
                             headers text, body text)
                    ON CONFLICT (delivery_id, number) DO UPDATE SET time_ms = excluded.time_ms,
                        status = excluded.status, latency_ms = excluded.latency_ms, error = excluded.error,
                        response_headers = excluded.response_headers, response_body = excluded.response_body
                    """,
                    logger: logger
                )
            }
            // A success ends the endpoint's failing streak.
            if !succeededEndpoints.isEmpty {
                try await connection.query(
                    """
                    UPDATE endpoints SET failing_since_ms = NULL
                    WHERE id = ANY(\(succeededEndpoints.sorted())::text[]) AND failing_since_ms IS NOT NULL
                    """,
                    logger: logger
                )
            }
            var disabled = Array(repeating: [DisabledEndpoint](), count: batch.count)
            for (result, now, disableFailingAfter, index) in failed {
                if let endpoint = try await updateHealth(
                    after: result,
                    now: now,
                    disableFailingAfter: disableFailingAfter,
                    on: connection,
                    logger: logger
                ) {
                    disabled[index].append(endpoint)
                }
            }
            return disabled
        }
    }

    /// Starts (or continues) the endpoint's failing streak after a failed attempt, and disables it
    /// when `EndpointHealth` says so. Returns the endpoint when this call disabled it.
    private static func updateHealth(
        after result: AttemptResult,
        now: Timestamp,
        disableFailingAfter: Duration,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> DisabledEndpoint? {
        let endpoint = result.delivery.endpointID
        let ms = now.millisecondsSinceEpoch
        var streak: (Int64, String)?
        for try await row in try await connection.query(
            """
            UPDATE endpoints SET failing_since_ms = COALESCE(failing_since_ms, \(ms))
            WHERE id = \(endpoint) AND enabled RETURNING failing_since_ms, url
            """,
            logger: logger
        ).decode((Int64, String).self) {
            streak = row
        }
        guard let (since, url) = streak,
            let reason = EndpointHealth.reasonToDisable(
                after: result,
                failingSince: since,
                now: now,
                disableFailingAfter: disableFailingAfter
            )
        else { return nil }
        try await connection.query(
            "UPDATE endpoints SET enabled = FALSE, disabled_reason = \(reason), updated_ms = \(ms) WHERE id = \(endpoint)",
            logger: logger
        )
        return DisabledEndpoint(id: endpoint, url: url, reason: reason)
    }

    /// PostgreSQL text cannot hold NUL: what a remote server answered is stored with U+FFFD instead.
    private static func withoutNUL(_ text: String) -> String {
        guard text.unicodeScalars.contains("\u{0}") else { return text }
        var cleaned = String.UnicodeScalarView()
        for scalar in text.unicodeScalars { cleaned.append(scalar == "\u{0}" ? "\u{FFFD}" : scalar) }
        return String(cleaned)
    }
}

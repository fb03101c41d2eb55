import PostgresNIO
public import SwitchboardCore

/// `DeliveryQueue` on PostgreSQL, shared by the workers of every node.
///
/// A claim locks its candidates with `FOR UPDATE SKIP LOCKED` (two nodes claiming at once get
/// different deliveries, and neither waits for the other) and leases the admitted ones to this node
/// for `lease`. Only the lease holder records a result: a node whose lease ran out and was taken over
/// by another has its late result dropped, so each attempt number is written once. A dead node's
/// leases simply run out. Lease times are the database's (`DatabaseClock`), so nodes whose clocks
/// disagree agree on when a lease ends; due times are the callers' `now`, where a skew only shifts a
/// retry.
public final class PostgresDeliveryQueue: DeliveryQueue {
    private let storage: PostgresStorage
    /// This node, as the holder of its leases.
    private let node: String
    private let recorder: AttemptBatcher
    private let clock: DatabaseClock

    /// Uses `storage`; `node` names this node's leases (unique per running process); `clock` turns the
    /// callers' times into the database's.
    public init(storage: PostgresStorage, node: String, clock: DatabaseClock) {
        self.storage = storage
        self.node = node
        self.clock = clock
        self.recorder = AttemptBatcher { batch in
            try await PostgresAttemptWriter.write(batch, node: node, storage: storage)
        }
    }

    /// Gives back this node's leases (other nodes' stay theirs).
    public func releaseLeases() async throws {
        try await storage.query(
            "UPDATE deliveries SET lease_holder = NULL, lease_until_ms = NULL WHERE lease_holder = \(node)"
        )
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
        let ms = now.millisecondsSinceEpoch
        // Leases are in the database's time, which every node reads alike.
        let databaseMs = clock.databaseMilliseconds(at: now)
        let until = databaseMs + lease.wholeMilliseconds
        let logger = storage.logger
        let node = node
        return try await storage.transaction { connection in
            // An ordered endpoint's delivery is a candidate only while it is its channel's lowest live
            // one, leased or not: the next waits until it is finished, on every node.
            let rows = try await connection.query(
                """
                SELECT d.id, d.endpoint_id, d.event_id, d.channel, d."offset", d.type, d.event_time_ms,
                       d.attempts, d.round_start, e.updated_ms, COALESCE(d.data, ev.data)
                FROM deliveries d
                JOIN endpoints e ON e.id = d.endpoint_id
                LEFT JOIN events ev ON ev.channel = d.channel AND ev."offset" = d."offset" AND ev.id = d.event_id
                WHERE d.next_attempt_ms <= \(ms) AND (d.lease_until_ms IS NULL OR d.lease_until_ms <= \(databaseMs))
                  AND e.enabled AND NOT (d.endpoint_id = ANY(\(skipping.sorted())::text[]))
                  AND (NOT e.ordered OR d."offset" = (
                        SELECT MIN(d2."offset") FROM deliveries d2
                        WHERE d2.endpoint_id = d.endpoint_id AND d2.channel = d.channel
                          AND d2.next_attempt_ms IS NOT NULL))
                ORDER BY d.next_attempt_ms, d.id
                LIMIT \(limit)
                FOR UPDATE OF d SKIP LOCKED
                """,
                logger: logger
            )
            var claimed: [ClaimedDelivery] = []
            for try await row in rows.decode(
                (Int64, String, String, String, Int64, String, Int64, Int, Int, Int64, String?).self
            ) {
                let (id, endpoint, eventID, channel, offset, type, time, attempts, roundStart, updated, data) = row
                let event = try data.map { data in
                    Event(
                        id: EventID(stored: eventID),
                        channel: try ChannelName(channel),
                        offset: offset,
                        type: try EventType(type),
                        time: Timestamp(millisecondsSinceEpoch: time),
                        data: data
                    )
                }
                let candidate = ClaimedDelivery(
                    id: DeliveryID.text(Int(id)),
                    endpointID: endpoint,
                    endpointUpdated: Timestamp(millisecondsSinceEpoch: updated),
                    event: event,
                    eventID: eventID,
                    attemptsMade: attempts,
                    attemptsInRound: attempts - roundStart
                )
                if admit(candidate) { claimed.append(candidate) }
            }
            guard !claimed.isEmpty else { return [] }
            let ids = claimed.compactMap { DeliveryID.row($0.id).map(Int64.init) }
            try await connection.query(
                """
                UPDATE deliveries SET lease_holder = \(node), lease_until_ms = \(until)
                WHERE id = ANY(\(ids)::int8[])
                """,
                logger: logger
            )
            return claimed
        }
    }

    /// Records attempts in the next batch; see `DeliveryQueue.record`.
    public func record(_ results: [AttemptResult], now: Timestamp, disableFailingAfter: Duration) async throws
        -> [DisabledEndpoint]
    {
        try await recorder.record(results, now: now, disableFailingAfter: disableFailingAfter)
    }

    /// When the next live delivery not in flight is due.
    public func nextDue(now: Timestamp) async throws -> Timestamp? {
        let databaseMs = clock.databaseMilliseconds(at: now)
        let offset = databaseMs - now.millisecondsSinceEpoch
        // A leased delivery is in flight until its lease ends (in the database's time): then it is due
        // again, unless recorded.
        let rows = try await storage.query(
            """
            SELECT MIN(CASE WHEN lease_until_ms > \(databaseMs)
                            THEN GREATEST(next_attempt_ms, lease_until_ms - \(offset))
                            ELSE next_attempt_ms END)
            FROM deliveries WHERE next_attempt_ms IS NOT NULL AND (lease_holder IS DISTINCT FROM \(node)
                                                                   OR lease_until_ms <= \(databaseMs))
            """
        )
        for try await due in rows.decode(Int64?.self) {
            return due.map(Timestamp.init(millisecondsSinceEpoch:))
        }
        return nil
    }

    /// Deliveries still to be made.
    public func liveCount() async throws -> Int {
        let rows = try await storage.query("SELECT count(*) FROM deliveries WHERE next_attempt_ms IS NOT NULL")
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }

    /// One delivery with its attempts.
    public func delivery(id: String) async throws -> DeliveryRecord? {
        guard let row = DeliveryID.row(id) else { return nil }
        return try await records("SELECT \(unescaped: Self.columns) FROM deliveries WHERE id = \(Int64(row))").first
    }

    /// An endpoint's deliveries, newest first.
    public func deliveries(endpoint: String, status: DeliveryStatus?, before: String?, limit: Int) async throws
        -> [DeliveryRecord]
    {
        let beforeRow = Int64(before.map { DeliveryID.row($0) ?? 0 } ?? Int.max)
        return try await records(
            """
            SELECT \(unescaped: Self.columns) FROM deliveries
            WHERE endpoint_id = \(endpoint) AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
              AND id < \(beforeRow)
            ORDER BY id DESC LIMIT \(max(1, limit))
            """
        )
    }

    /// Makes a delivery due now.
    public func retryNow(id: String, now: Timestamp) async throws -> DeliveryRecord? {
        guard let row = DeliveryID.row(id) else { return nil }
        let ms = now.millisecondsSinceEpoch
        var found = false
        for try await _ in try await storage.query(
            """
            UPDATE deliveries SET next_attempt_ms = \(ms), updated_ms = \(ms),
                status = CASE WHEN status IN ('succeeded', 'dead') THEN 'pending' ELSE status END
            WHERE id = \(Int64(row)) RETURNING id
            """
        ) { found = true }
        return found ? try await delivery(id: id) : nil
    }

    /// Enqueues an endpoint's deliveries again with a fresh schedule.
    public func replay(endpoint: String, selection: ReplaySelection, now: Timestamp) async throws -> Int {
        let ms = now.millisecondsSinceEpoch
        let range = Self.range(selection)
        let rows = try await storage.query(
            """
            WITH replayed AS (
                UPDATE deliveries SET status = 'pending', next_attempt_ms = \(ms), round_start = attempts,
                    updated_ms = \(ms)
                WHERE endpoint_id = \(endpoint)
                  AND (\(range.since)::int8 IS NULL OR created_ms >= \(range.since))
                  AND (\(range.channel)::text IS NULL
                       OR (channel = \(range.channel) AND "offset" BETWEEN \(range.from) AND \(range.through)))
                  AND (NOT \(selection.onlyFailed) OR status IN ('failed', 'dead'))
                RETURNING 1
            )
            SELECT count(*) FROM replayed
            """
        )
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }

    /// How many deliveries `replay` would enqueue again.
    public func countReplayable(endpoint: String, selection: ReplaySelection) async throws -> Int {
        let range = Self.range(selection)
        let rows = try await storage.query(
            """
            SELECT count(*) FROM deliveries
            WHERE endpoint_id = \(endpoint)
              AND (\(range.since)::int8 IS NULL OR created_ms >= \(range.since))
              AND (\(range.channel)::text IS NULL
                   OR (channel = \(range.channel) AND "offset" BETWEEN \(range.from) AND \(range.through)))
              AND (NOT \(selection.onlyFailed) OR status IN ('failed', 'dead'))
            """
        )
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }

    /// A replay's range as query values: a time, or a channel with an offset range.
    private static func range(_ selection: ReplaySelection) -> (
        since: Int64?, channel: String?, from: Int64, through: Int64
    ) {
        switch selection.range {
        case .since(let time): (time.millisecondsSinceEpoch, nil, 0, 0)
        case .offsets(let channel, let from, let through): (nil, channel.rawValue, from, through ?? Int64.max)
        }
    }

    /// The deliveries of one event, oldest first.
    public func deliveries(event: String, limit: Int) async throws -> [DeliveryRecord] {
        try await records(
            """
            SELECT \(unescaped: Self.columns) FROM deliveries WHERE event_id = \(event)
            ORDER BY id LIMIT \(max(1, limit))
            """
        )
    }

    /// Removes old finished deliveries, oldest first; attempts go with them. One node at a time: a node
    /// that finds another one sweeping leaves it to that one (0 removed).
    public func trimFinished(before: Timestamp, limit: Int) async throws -> Int {
        let logger = storage.logger
        return try await storage.transaction { connection in
            guard try await AdvisoryLock.deliveryHistory.tryTake(on: connection, logger: logger) else { return 0 }
            let rows = try await connection.query(
                """
                    WITH gone AS (
                    DELETE FROM deliveries WHERE id IN (
                        SELECT id FROM deliveries
                        WHERE next_attempt_ms IS NULL AND updated_ms < \(before.millisecondsSinceEpoch)
                        ORDER BY id LIMIT \(max(0, limit)))
                    RETURNING 1
                )
                SELECT count(*) FROM gone
                """,
                logger: logger
            )
            for try await count in rows.decode(Int.self) { return count }
            return 0
        }
    }

    /// Makes every waiting delivery of `endpoint` due now.
    public func expedite(endpoint: String, now: Timestamp) async throws {
        let ms = now.millisecondsSinceEpoch
        try await storage.query(
            "UPDATE deliveries SET next_attempt_ms = \(ms) WHERE endpoint_id = \(endpoint) AND next_attempt_ms > \(ms)"
        )
    }

    /// Enqueues `event` for one endpoint without storing it in the log.
    public func enqueueDirect(endpoint: String, event: Event, now: Timestamp) async throws -> String {
        let ms = now.millisecondsSinceEpoch
        let rows = try await storage.query(
            """
            INSERT INTO deliveries (endpoint_id, event_id, channel, "offset", type, event_time_ms, data,
                next_attempt_ms, created_ms, updated_ms)
            VALUES (\(endpoint), \(event.id.rawValue), \(event.channel.rawValue), \(event.offset),
                \(event.type.rawValue), \(event.time.millisecondsSinceEpoch), \(event.data), \(ms), \(ms), \(ms))
            RETURNING id
            """
        )
        for try await id in rows.decode(Int64.self) { return DeliveryID.text(Int(id)) }
        throw StoreError("no delivery id returned")
    }

    private static let columns = """
        id, endpoint_id, event_id, channel, "offset", type, status, next_attempt_ms, created_ms, attempts
        """

    private func records(_ query: PostgresQuery) async throws -> [DeliveryRecord] {
        typealias Row = (Int64, String, String, String, Int64, String, String, Int64?, Int64, Int)
        var rows: [Row] = []
        for try await row in try await storage.query(query).decode(Row.self) { rows.append(row) }
        guard !rows.isEmpty else { return [] }
        var attempts: [Int64: [AttemptRecord]] = [:]
        let attemptRows = try await storage.query(
            """
            SELECT delivery_id, number, time_ms, status, latency_ms, error, response_headers, response_body
            FROM delivery_attempts WHERE delivery_id = ANY(\(rows.map(\.0))::int8[]) ORDER BY delivery_id, number
            """
        )
        for try await (id, number, time, status, latency, error, headers, body) in attemptRows.decode(
            (Int64, Int, Int64, Int?, Int64, String?, String?, String?).self
        ) {
            attempts[id, default: []].append(
                AttemptRecord(
                    number: number,
                    time: Timestamp(millisecondsSinceEpoch: time),
                    status: status,
                    latencyMilliseconds: latency,
                    error: error,
                    responseHeaders: headers.map(EndpointColumns.headers(fromJSON:)) ?? [],
                    responseBody: body
                )
            )
        }
        return try rows.map { row in
            let (id, endpoint, event, channel, offset, type, statusText, next, created, attemptCount) = row
            guard let status = DeliveryStatus(rawValue: statusText) else {
                throw StoreError("malformed deliveries row")
            }
            return DeliveryRecord(
                id: DeliveryID.text(Int(id)),
                endpointID: endpoint,
                eventID: event,
                channel: channel,
                offset: offset,
                type: type,
                status: status,
                nextAttempt: next.map(Timestamp.init(millisecondsSinceEpoch:)),
                created: Timestamp(millisecondsSinceEpoch: created),
                // Attempts read after the row may include one the row does not count yet: show only
                // what it counts, so the status and the attempts agree.
                attempts: (attempts[id] ?? []).filter { $0.number <= attemptCount }
            )
        }
    }
}

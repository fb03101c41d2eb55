import SQLiteNIO
public import SwitchboardCore

extension SQLiteAdminStore {
    /// Stores a new endpoint with its filter rows.
    public func insertEndpoint(_ endpoint: Endpoint) async throws {
        try await database.writer.exclusive { connection in
            try await connection.transaction {
                _ = try await connection.query(
                    """
                    INSERT INTO endpoints (id, url, description, channels, types, rate_limit, ordered, headers, secret,
                        previous_secret, previous_secret_expires_ms, enabled, disabled_reason, failing_since_ms,
                        created_ms, updated_ms)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    EndpointRow.binds(endpoint) + [.integer(Int(endpoint.created.millisecondsSinceEpoch))]
                        + [.integer(Int(endpoint.updated.millisecondsSinceEpoch))]
                )
                try await Self.writeFilters(of: endpoint, on: connection)
            }
        }
    }

    /// The endpoint `id`, if any.
    public func endpoint(id: String) async throws -> Endpoint? {
        try await database.read("SELECT * FROM endpoints WHERE id = ?", [.text(id)]).first.map(EndpointRow.endpoint)
    }

    /// All endpoints, oldest first.
    public func listEndpoints() async throws -> [Endpoint] {
        try await database.read("SELECT * FROM endpoints ORDER BY created_ms, id").map(EndpointRow.endpoint)
    }

    /// Enables an endpoint (clearing its failing streak) or disables it with a reason.
    public func setEndpointEnabled(id: String, enabled: Bool, reason: String?, at time: Timestamp) async throws -> Bool
    {
        try await database.writer.exclusive { connection in
            try await !connection.query(
                """
                UPDATE endpoints SET enabled = ?, disabled_reason = ?, failing_since_ms = NULL, updated_ms = ?
                WHERE id = ? RETURNING id
                """,
                [
                    .integer(enabled ? 1 : 0), reason.map { .text($0) } ?? .null,
                    .integer(Int(time.millisecondsSinceEpoch)), .text(id),
                ]
            ).isEmpty
        }
    }

    /// Replaces a stored endpoint's settings, keys and filter rows (not its enabled state or health).
    public func updateEndpoint(_ endpoint: Endpoint) async throws -> Bool {
        try await database.writer.exclusive { connection in
            try await connection.transaction {
                let updated = try await connection.query(
                    """
                    UPDATE endpoints SET url = ?, description = ?, channels = ?, types = ?, rate_limit = ?, ordered = ?,
                        headers = ?, secret = ?, previous_secret = ?, previous_secret_expires_ms = ?, updated_ms = ?
                    WHERE id = ? RETURNING id
                    """,
                    Array(EndpointRow.binds(endpoint).dropFirst().prefix(10))
                        + [.integer(Int(endpoint.updated.millisecondsSinceEpoch)), .text(endpoint.id)]
                )
                guard !updated.isEmpty else { return false }
                _ = try await connection.query(
                    "DELETE FROM endpoint_filters WHERE endpoint_id = ?",
                    [.text(endpoint.id)]
                )
                try await Self.writeFilters(of: endpoint, on: connection)
                return true
            }
        }
    }

    /// Removes an endpoint; its deliveries and their attempts go with it.
    public func deleteEndpoint(id: String) async throws -> Bool {
        try await database.writer.exclusive { connection in
            try await !connection.query("DELETE FROM endpoints WHERE id = ? RETURNING id", [.text(id)]).isEmpty
        }
    }

    private static func writeFilters(of endpoint: Endpoint, on connection: SQLiteConnection) async throws {
        let rows =
            endpoint.settings.filter.channels.map { ("channel", $0) }
            + endpoint.settings.filter.types.map { ("type", $0) }
        for (kind, pattern) in rows {
            _ = try await connection.query(
                "INSERT INTO endpoint_filters (endpoint_id, kind, fixed, is_prefix) VALUES (?, ?, ?, ?)",
                [.text(endpoint.id), .text(kind), .text(pattern.fixedPart), .integer(pattern.isPrefixPattern ? 1 : 0)]
            )
        }
    }

}

/// How an endpoint maps to and from its SQLite row (`EndpointColumns` holds what is common).
enum EndpointRow {
    /// Binds for every column from `url` to `failing_since_ms`, preceded by `id`.
    static func binds(_ endpoint: Endpoint) -> [SQLiteData] {
        let columns = EndpointColumns(endpoint)
        func integer(_ value: Int64?) -> SQLiteData { value.map { .integer(Int($0)) } ?? .null }
        func text(_ value: String?) -> SQLiteData { value.map { .text($0) } ?? .null }
        return [
            .text(columns.id), .text(columns.url), .text(columns.description), .text(columns.channels),
            .text(columns.types), columns.rateLimit.map { .integer($0) } ?? .null,
            .integer(columns.isOrdered ? 1 : 0), .text(columns.headers), .text(columns.secret),
            text(columns.previousSecret), integer(columns.previousSecretExpires), .integer(columns.isEnabled ? 1 : 0),
            text(columns.disabledReason), integer(columns.failingSince),
        ]
    }

    static func endpoint(_ row: SQLiteRow) throws -> Endpoint {
        func text(_ column: String) throws -> String {
            guard let value = row.column(column)?.string else { throw StoreError("malformed endpoints row: \(column)") }
            return value
        }
        func time(_ column: String) -> Int64? { row.column(column)?.integer.map(Int64.init) }
        guard let created = time("created_ms"), let updated = time("updated_ms") else {
            throw StoreError("malformed endpoints row: times")
        }
        return try EndpointColumns(
            id: try text("id"),
            url: try text("url"),
            description: try text("description"),
            channels: try text("channels"),
            types: try text("types"),
            rateLimit: row.column("rate_limit")?.integer,
            isOrdered: row.column("ordered")?.integer == 1,
            headers: try text("headers"),
            secret: try text("secret"),
            previousSecret: row.column("previous_secret")?.string,
            previousSecretExpires: time("previous_secret_expires_ms"),
            isEnabled: row.column("enabled")?.integer == 1,
            disabledReason: row.column("disabled_reason")?.string,
            failingSince: time("failing_since_ms"),
            created: created,
            updated: updated
        ).endpoint()
    }
}

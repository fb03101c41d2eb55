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

/// How an endpoint maps to and from its row.
enum EndpointRow {
    /// Binds for every column from `url` to `failing_since_ms`, preceded by `id`.
    static func binds(_ endpoint: Endpoint) -> [SQLiteData] {
        let settings = endpoint.settings
        return [
            .text(endpoint.id), .text(settings.url), .text(settings.description),
            .text(JSONValue.array(settings.filter.channels.map { .string($0.rawValue) }).jsonText),
            .text(JSONValue.array(settings.filter.types.map { .string($0.rawValue) }).jsonText),
            settings.rateLimit.map { .integer($0) } ?? .null, .integer(settings.isOrdered ? 1 : 0),
            .text(headersJSON(settings.headers)), .text(endpoint.signingKey.storedText),
            endpoint.previousKey.map { .text($0.storedText) } ?? .null,
            endpoint.previousKeyExpires.map { .integer(Int($0.millisecondsSinceEpoch)) } ?? .null,
            .integer(endpoint.isEnabled ? 1 : 0), endpoint.disabledReason.map { .text($0) } ?? .null,
            endpoint.failingSince.map { .integer(Int($0.millisecondsSinceEpoch)) } ?? .null,
        ]
    }

    /// `[["name","value"],…]`.
    static func headersJSON(_ headers: [EndpointSettings.HeaderField]) -> String {
        JSONValue.array(headers.map { .array([.string($0.name), .string($0.value)]) }).jsonText
    }

    /// The fields back from `headersJSON`.
    static func headers(fromJSON text: String) -> [EndpointSettings.HeaderField] {
        guard case .array(let items)? = try? JSONParser.parse(Array(text.utf8)) else { return [] }
        return items.compactMap { item in
            guard case .array(let pair) = item, pair.count == 2, let name = pair[0].stringValue,
                let value = pair[1].stringValue
            else { return nil }
            return EndpointSettings.HeaderField(name: name, value: value)
        }
    }

    static func endpoint(_ row: SQLiteRow) throws -> Endpoint {
        func text(_ column: String) throws -> String {
            guard let value = row.column(column)?.string else { throw StoreError("malformed endpoints row: \(column)") }
            return value
        }
        func time(_ column: String) -> Timestamp? {
            row.column(column)?.integer.map { Timestamp(millisecondsSinceEpoch: Int64($0)) }
        }
        func patterns(_ column: String) throws -> [NamePattern] {
            guard case .array(let items)? = try? JSONParser.parse(Array(try text(column).utf8)) else {
                throw StoreError("malformed endpoints row: \(column)")
            }
            return try items.compactMap(\.stringValue).map { try NamePattern($0) }
        }
        guard let created = time("created_ms"), let updated = time("updated_ms") else {
            throw StoreError("malformed endpoints row: times")
        }
        let settings = EndpointSettings(
            url: try text("url"),
            filter: try EndpointFilter(channels: try patterns("channels"), types: try patterns("types")),
            description: try text("description"),
            rateLimit: row.column("rate_limit")?.integer,
            isOrdered: row.column("ordered")?.integer == 1,
            headers: headers(fromJSON: try text("headers"))
        )
        return Endpoint(
            id: try text("id"),
            settings: settings,
            signingKey: try WebhookSigningKey(stored: try text("secret")),
            previousKey: try row.column("previous_secret")?.string.map { try WebhookSigningKey(stored: $0) },
            previousKeyExpires: time("previous_secret_expires_ms"),
            isEnabled: row.column("enabled")?.integer == 1,
            disabledReason: row.column("disabled_reason")?.string,
            failingSince: time("failing_since_ms"),
            created: created,
            updated: updated
        )
    }
}

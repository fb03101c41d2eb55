import PostgresNIO
public import SwitchboardCore

extension PostgresAdminStore {
    /// Stores a new endpoint with its filter rows.
    public func insertEndpoint(_ endpoint: Endpoint) async throws {
        let row = EndpointColumns(endpoint)
        let logger = storage.logger
        try await storage.transaction { connection in
            try await connection.query(
                """
                INSERT INTO endpoints (id, url, description, channels, types, rate_limit, ordered, headers, secret,
                    previous_secret, previous_secret_expires_ms, enabled, disabled_reason, failing_since_ms,
                    created_ms, updated_ms)
                VALUES (\(row.id), \(row.url), \(row.description), \(row.channels), \(row.types), \(row.rateLimit),
                    \(row.isOrdered), \(row.headers), \(row.secret), \(row.previousSecret), \(row.previousSecretExpires),
                    \(row.isEnabled), \(row.disabledReason), \(row.failingSince), \(row.created), \(row.updated))
                """,
                logger: logger
            )
            try await Self.writeFilters(of: endpoint, on: connection, storage: storage)
        }
    }

    /// The endpoint `id`, if any.
    public func endpoint(id: String) async throws -> Endpoint? {
        try await endpoints("SELECT \(unescaped: Self.columns) FROM endpoints WHERE id = \(id)").first
    }

    /// All endpoints, oldest first.
    public func listEndpoints() async throws -> [Endpoint] {
        try await endpoints("SELECT \(unescaped: Self.columns) FROM endpoints ORDER BY created_ms, id")
    }

    /// Enables an endpoint (clearing its failing streak) or disables it with a reason.
    public func setEndpointEnabled(id: String, enabled: Bool, reason: String?, at time: Timestamp) async throws -> Bool
    {
        try await returnsRow(
            """
            UPDATE endpoints SET enabled = \(enabled), disabled_reason = \(reason), failing_since_ms = NULL,
                updated_ms = \(time.millisecondsSinceEpoch)
            WHERE id = \(id) RETURNING id
            """
        )
    }

    /// Replaces a stored endpoint's settings, keys and filter rows (not its enabled state or health).
    public func updateEndpoint(_ endpoint: Endpoint) async throws -> Bool {
        let row = EndpointColumns(endpoint)
        let logger = storage.logger
        return try await storage.transaction { connection in
            var updated = false
            for try await _ in try await connection.query(
                """
                UPDATE endpoints SET url = \(row.url), description = \(row.description), channels = \(row.channels),
                    types = \(row.types), rate_limit = \(row.rateLimit), ordered = \(row.isOrdered),
                    headers = \(row.headers), secret = \(row.secret), previous_secret = \(row.previousSecret),
                    previous_secret_expires_ms = \(row.previousSecretExpires), updated_ms = \(row.updated)
                WHERE id = \(row.id) RETURNING id
                """,
                logger: logger
            ) { updated = true }
            guard updated else { return false }
            try await connection.query("DELETE FROM endpoint_filters WHERE endpoint_id = \(row.id)", logger: logger)
            try await Self.writeFilters(of: endpoint, on: connection, storage: storage)
            return true
        }
    }

    /// Removes an endpoint; its deliveries and their attempts go with it.
    public func deleteEndpoint(id: String) async throws -> Bool {
        try await returnsRow("DELETE FROM endpoints WHERE id = \(id) RETURNING id")
    }

    private static let columns = """
        id, url, description, channels, types, rate_limit, ordered, headers, secret, previous_secret,
        previous_secret_expires_ms, enabled, disabled_reason, failing_since_ms, created_ms, updated_ms
        """

    private func endpoints(_ query: PostgresQuery) async throws -> [Endpoint] {
        var endpoints: [Endpoint] = []
        for try await row in try await storage.query(query) {
            let columns = row.makeRandomAccess()
            endpoints.append(
                try EndpointColumns(
                    id: columns["id"].decode(String.self),
                    url: columns["url"].decode(String.self),
                    description: columns["description"].decode(String.self),
                    channels: columns["channels"].decode(String.self),
                    types: columns["types"].decode(String.self),
                    rateLimit: columns["rate_limit"].decode(Int?.self),
                    isOrdered: columns["ordered"].decode(Bool.self),
                    headers: columns["headers"].decode(String.self),
                    secret: columns["secret"].decode(String.self),
                    previousSecret: columns["previous_secret"].decode(String?.self),
                    previousSecretExpires: columns["previous_secret_expires_ms"].decode(Int64?.self),
                    isEnabled: columns["enabled"].decode(Bool.self),
                    disabledReason: columns["disabled_reason"].decode(String?.self),
                    failingSince: columns["failing_since_ms"].decode(Int64?.self),
                    created: columns["created_ms"].decode(Int64.self),
                    updated: columns["updated_ms"].decode(Int64.self)
                ).endpoint()
            )
        }
        return endpoints
    }

    private static func writeFilters(
        of endpoint: Endpoint,
        on connection: PostgresConnection,
        storage: PostgresStorage
    ) async throws {
        let rows =
            endpoint.settings.filter.channels.map { ("channel", $0) }
            + endpoint.settings.filter.types.map { ("type", $0) }
        guard !rows.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO endpoint_filters (endpoint_id, kind, fixed, is_prefix)
            SELECT \(endpoint.id), k, f, p
            FROM unnest(\(rows.map(\.0))::text[], \(rows.map(\.1.fixedPart))::text[],
                        \(rows.map(\.1.isPrefixPattern))::bool[]) AS u(k, f, p)
            """,
            logger: storage.logger
        )
    }
}

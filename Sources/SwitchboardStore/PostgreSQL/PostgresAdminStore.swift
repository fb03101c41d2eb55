import PostgresNIO
public import SwitchboardCore

/// `AdminStore` on PostgreSQL: keys, endpoints and sources shared by every node.
public final class PostgresAdminStore: AdminStore {
    let storage: PostgresStorage

    /// Uses `storage`.
    public init(storage: PostgresStorage) {
        self.storage = storage
    }

    /// Stores a new key record.
    public func insertAPIKey(_ record: APIKeyRecord) async throws {
        try await storage.query(
            """
            INSERT INTO api_keys (id, name, digest, scopes, created_ms)
            VALUES (\(record.id), \(record.name), \(record.digest.hex),
                    \(record.scopes.map(\.description).joined(separator: " ")), \(record.created.millisecondsSinceEpoch))
            """
        )
    }

    /// The key whose digest is `digest`, if any.
    public func findAPIKey(digest: APIKeyDigest) async throws -> APIKeyRecord? {
        try await keys(
            "SELECT id, name, digest, scopes, created_ms, last_used_ms FROM api_keys WHERE digest = \(digest.hex)"
        ).first
    }

    /// All keys, oldest first.
    public func listAPIKeys() async throws -> [APIKeyRecord] {
        try await keys(
            "SELECT id, name, digest, scopes, created_ms, last_used_ms FROM api_keys ORDER BY created_ms, id"
        )
    }

    /// Records that a key was used.
    public func touchAPIKey(id: String, at time: Timestamp) async throws {
        try await storage.query("UPDATE api_keys SET last_used_ms = \(time.millisecondsSinceEpoch) WHERE id = \(id)")
    }

    /// Revokes a key unless it is the last admin key. Every admin key's row is locked first, so two
    /// nodes revoking the last two admin keys at once cannot both succeed.
    public func deleteAPIKey(id: String) async throws -> APIKeyDeletion {
        let admin = Scope.admin.description
        let logger = storage.logger
        return try await storage.transaction { connection in
            var admins = 0
            var target: Bool?
            let rows = try await connection.query(
                """
                SELECT id, \(admin) = ANY(string_to_array(scopes, ' ')) FROM api_keys
                WHERE id = \(id) OR \(admin) = ANY(string_to_array(scopes, ' '))
                ORDER BY id FOR UPDATE
                """,
                logger: logger
            )
            for try await (rowID, isAdmin) in rows.decode((String, Bool).self) {
                if isAdmin { admins += 1 }
                if rowID == id { target = isAdmin }
            }
            guard let isAdmin = target else { return .notFound }
            if isAdmin, admins <= 1 { return .lastAdminKey }
            try await connection.query("DELETE FROM api_keys WHERE id = \(id)", logger: logger)
            return .deleted
        }
    }

    private func keys(_ query: PostgresQuery) async throws -> [APIKeyRecord] {
        var records: [APIKeyRecord] = []
        let rows = try await storage.query(query)
        for try await (id, name, digest, scopes, created, lastUsed) in rows.decode(
            (String, String, String, String, Int64, Int64?).self
        ) {
            records.append(
                APIKeyRecord(
                    id: id,
                    name: name,
                    digest: APIKeyDigest(storedHex: digest),
                    scopes: try scopes.split(separator: " ").map { try Scope(String($0)) },
                    created: Timestamp(millisecondsSinceEpoch: created),
                    lastUsed: lastUsed.map(Timestamp.init(millisecondsSinceEpoch:))
                )
            )
        }
        return records
    }
}

import SQLiteNIO
public import SwitchboardCore

/// `AdminStore` on the embedded SQLite database.
public final class SQLiteAdminStore: AdminStore {
    let database: SQLiteStorage

    /// Uses `database`.
    public init(database: SQLiteStorage) {
        self.database = database
    }

    /// Stores a new key record.
    public func insertAPIKey(_ record: APIKeyRecord) async throws {
        _ = try await database.writer.exclusive { connection in
            try await connection.query(
                "INSERT INTO api_keys (id, name, digest, scopes, created_ms) VALUES (?, ?, ?, ?, ?)",
                [
                    .text(record.id), .text(record.name), .text(record.digest.hex),
                    .text(record.scopes.map(\.description).joined(separator: " ")),
                    .integer(Int(record.created.millisecondsSinceEpoch)),
                ]
            )
        }
    }

    /// The key whose digest is `digest`, if any.
    public func findAPIKey(digest: APIKeyDigest) async throws -> APIKeyRecord? {
        let rows = try await database.read("SELECT * FROM api_keys WHERE digest = ?", [.text(digest.hex)])
        return try rows.first.map(Self.record)
    }

    /// All keys, oldest first.
    public func listAPIKeys() async throws -> [APIKeyRecord] {
        try await database.read("SELECT * FROM api_keys ORDER BY created_ms, id").map(Self.record)
    }

    /// Records that a key was used.
    public func touchAPIKey(id: String, at time: Timestamp) async throws {
        _ = try await database.writer.exclusive { connection in
            try await connection.query(
                "UPDATE api_keys SET last_used_ms = ? WHERE id = ?",
                [.integer(Int(time.millisecondsSinceEpoch)), .text(id)]
            )
        }
    }

    /// Revokes a key unless it is the last admin key. The single writer runs the check and the delete
    /// with no other write in between.
    public func deleteAPIKey(id: String) async throws -> APIKeyDeletion {
        let isAdmin = "(' ' || scopes || ' ') LIKE '% \(Scope.admin.description) %'"
        return try await database.writer.exclusive { connection in
            let rows = try await connection.query(
                """
                SELECT \(isAdmin) AS is_admin,
                    (SELECT count(*) FROM api_keys WHERE \(isAdmin)) AS admins
                FROM api_keys WHERE id = ?
                """,
                [.text(id)]
            )
            guard let row = rows.first else { return .notFound }
            if row.column("is_admin")?.integer == 1, (row.column("admins")?.integer ?? 0) <= 1 {
                return .lastAdminKey
            }
            _ = try await connection.query("DELETE FROM api_keys WHERE id = ?", [.text(id)])
            return .deleted
        }
    }

    private static func record(_ row: SQLiteRow) throws -> APIKeyRecord {
        guard let id = row.column("id")?.string, let name = row.column("name")?.string,
            let digest = row.column("digest")?.string, let scopes = row.column("scopes")?.string,
            let created = row.column("created_ms")?.integer
        else { throw StoreError("malformed api_keys row") }
        return APIKeyRecord(
            id: id,
            name: name,
            digest: APIKeyDigest(storedHex: digest),
            scopes: try scopes.split(separator: " ").map { try Scope(String($0)) },
            created: Timestamp(millisecondsSinceEpoch: Int64(created)),
            lastUsed: row.column("last_used_ms")?.integer.map { Timestamp(millisecondsSinceEpoch: Int64($0)) }
        )
    }
}

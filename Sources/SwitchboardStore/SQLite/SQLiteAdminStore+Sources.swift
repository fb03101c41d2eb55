import SQLiteNIO
public import SwitchboardCore

extension SQLiteAdminStore {
    /// Stores a new source; false when one with its name exists.
    public func insertSource(_ source: InboundSource, at time: Timestamp) async throws -> Bool {
        try await database.writer.exclusive { connection in
            try await !connection.query(
                """
                INSERT INTO sources (name, settings, created_ms, updated_ms) VALUES (?, ?, ?, ?)
                ON CONFLICT(name) DO NOTHING RETURNING name
                """,
                [
                    .text(source.name), .text(source.storedJSON.jsonText),
                    .integer(Int(time.millisecondsSinceEpoch)), .integer(Int(time.millisecondsSinceEpoch)),
                ]
            ).isEmpty
        }
    }

    /// All stored sources, by name.
    public func listSources() async throws -> [InboundSource] {
        try await database.read("SELECT name, settings FROM sources ORDER BY name").map { row in
            guard let settings = row.column("settings")?.string else { throw StoreError("malformed sources row") }
            return try InboundSource(json: try JSONParser.parse(settings))
        }
    }

    /// Replaces a stored source; returns whether it existed.
    public func updateSource(_ source: InboundSource, at time: Timestamp) async throws -> Bool {
        try await database.writer.exclusive { connection in
            try await !connection.query(
                "UPDATE sources SET settings = ?, updated_ms = ? WHERE name = ? RETURNING name",
                [.text(source.storedJSON.jsonText), .integer(Int(time.millisecondsSinceEpoch)), .text(source.name)]
            ).isEmpty
        }
    }

    /// Removes a source; returns whether it existed.
    public func deleteSource(name: String) async throws -> Bool {
        try await database.writer.exclusive { connection in
            try await !connection.query("DELETE FROM sources WHERE name = ? RETURNING name", [.text(name)]).isEmpty
        }
    }
}

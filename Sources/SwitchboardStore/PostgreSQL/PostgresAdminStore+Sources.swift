import PostgresNIO
public import SwitchboardCore

extension PostgresAdminStore {
    /// Stores a new source; false when one with its name exists.
    public func insertSource(_ source: InboundSource, at time: Timestamp) async throws -> Bool {
        let ms = time.millisecondsSinceEpoch
        return try await returnsRow(
            """
            INSERT INTO sources (name, settings, created_ms, updated_ms)
            VALUES (\(source.name), \(source.storedJSON.jsonText), \(ms), \(ms))
            ON CONFLICT (name) DO NOTHING RETURNING name
            """
        )
    }

    /// All stored sources, by name.
    public func listSources() async throws -> [InboundSource] {
        var sources: [InboundSource] = []
        for try await settings in try await storage.query("SELECT settings FROM sources ORDER BY name").decode(
            String.self
        ) {
            sources.append(try InboundSource(json: try JSONParser.parse(settings)))
        }
        return sources
    }

    /// Replaces a stored source; returns whether it existed.
    public func updateSource(_ source: InboundSource, at time: Timestamp) async throws -> Bool {
        try await returnsRow(
            """
            UPDATE sources SET settings = \(source.storedJSON.jsonText), updated_ms = \(time.millisecondsSinceEpoch)
            WHERE name = \(source.name) RETURNING name
            """
        )
    }

    /// Removes a source; returns whether it existed.
    public func deleteSource(name: String) async throws -> Bool {
        try await returnsRow("DELETE FROM sources WHERE name = \(name) RETURNING name")
    }

    /// Runs a statement ending in `RETURNING`; whether it returned a row.
    func returnsRow(_ query: PostgresQuery) async throws -> Bool {
        var found = false
        for try await _ in try await storage.query(query) { found = true }
        return found
    }
}

import SQLiteNIO

/// The statement shapes every SQLite store type uses: a transaction around a body, multi-row
/// inserts, and `?` lists.
extension SQLiteConnection {
    /// SQLite allows 32,766 bound variables per statement; stay a little below.
    static let maximumBoundValues = 30_000

    /// Runs `body` between `BEGIN IMMEDIATE` and `COMMIT`, rolling back when it throws.
    func transaction<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        _ = try await query("BEGIN IMMEDIATE")
        do {
            let result = try await body()
            _ = try await query("COMMIT")
            return result
        } catch {
            _ = try? await query("ROLLBACK")
            throw error
        }
    }

    /// Inserts `rows` (the values of every row, `columns` per row, flattened) with `prefix`
    /// (`INSERT INTO t (a, b) VALUES `), in as few statements as the bound-value limit allows.
    func insertRows(_ prefix: String, columns: Int, rows: [SQLiteData]) async throws {
        guard !rows.isEmpty else { return }
        let tuple = "(" + SQLiteConnection.placeholders(columns) + ")"
        for chunk in rows.chunked(by: (Self.maximumBoundValues / columns) * columns) {
            let values = Array(repeating: tuple, count: chunk.count / columns).joined(separator: ",")
            _ = try await query(prefix + values, chunk)
        }
    }

    /// `?,?,…` with `count` marks.
    static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ",")
    }
}

extension Array {
    /// Consecutive slices of at most `size` elements.
    func chunked(by size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}

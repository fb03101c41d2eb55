import VaporCSQLite

/// A connection to the embedded database driven through SQLite's C interface, for the appends of the
/// writer: statements are prepared once and kept (the INSERT with its triggers compiled in is the
/// costly one to parse), and a whole group commit runs in one call on the writer's own thread, with no
/// hop per statement. It uses the same SQLite library as SQLiteNIO (sqlite-nio's copy, whose symbols
/// carry its prefix): two copies of SQLite in one process would not see each other's file locks.
/// See decision 0023.
///
/// `@unchecked Sendable`: it is used only from the writer's thread pool of one thread (`SQLiteWriter`),
/// one commit at a time; the pool's queue orders each use after the previous one.
final class SQLiteDirectConnection: @unchecked Sendable {
    private let handle: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]

    private init(handle: OpaquePointer) {
        self.handle = handle
    }

    /// Opens the database at `path` (which must exist and be migrated) with the writer's settings.
    static func open(path: String, synchronous: String) throws -> SQLiteDirectConnection {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let status = sqlite_nio_sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK, let handle else {
            if let handle { sqlite_nio_sqlite3_close_v2(handle) }
            throw StoreError("could not open \(path) for appends: SQLite status \(status)")
        }
        let connection = SQLiteDirectConnection(handle: handle)
        for pragma in SQLiteStorage.writerPragmas(synchronous: synchronous) {
            try connection.execute(pragma)
        }
        return connection
    }

    /// Runs `sql` (no binds, rows ignored).
    func execute(_ sql: String) throws {
        let status = sqlite_nio_sqlite3_exec(handle, sql, nil, nil, nil)
        guard status == SQLITE_OK else { throw failure(status, sql) }
    }

    /// Runs the cached statement for `sql` with `binds`, handing each row to `row`.
    func run(_ sql: String, _ binds: [DirectValue], row: (DirectRow) throws -> Void = { _ in }) throws {
        let statement = try prepared(sql)
        defer {
            sqlite_nio_sqlite3_reset(statement)
            sqlite_nio_sqlite3_clear_bindings(statement)
        }
        for (index, value) in binds.enumerated() {
            let position = Int32(index + 1)
            let status: Int32
            switch value {
            case .integer(let integer): status = sqlite_nio_sqlite3_bind_int64(statement, position, integer)
            case .text(let text): status = Self.bindText(text, to: statement, at: position)
            }
            guard status == SQLITE_OK else { throw failure(status, sql) }
        }
        while true {
            let status = sqlite_nio_sqlite3_step(statement)
            if status == SQLITE_DONE { return }
            guard status == SQLITE_ROW else { throw failure(status, sql) }
            try row(DirectRow(statement: statement))
        }
    }

    /// Finalizes every statement and closes the connection.
    func close() {
        for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
        statements.removeAll()
        sqlite_nio_sqlite3_close_v2(handle)
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        let status = sqlite_nio_sqlite3_prepare_v3(
            handle,
            sql,
            -1,
            UInt32(SQLITE_PREPARE_PERSISTENT),
            &statement,
            nil
        )
        guard status == SQLITE_OK, let statement else { throw failure(status, sql) }
        statements[sql] = statement
        return statement
    }

    private static func bindText(_ text: String, to statement: OpaquePointer, at position: Int32) -> Int32 {
        // SQLITE_TRANSIENT: SQLite copies the bytes before the call returns.
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        var text = text
        return text.withUTF8 { bytes in
            guard let base = bytes.baseAddress, bytes.count > 0 else {
                return sqlite_nio_sqlite3_bind_text(statement, position, "", 0, transient)
            }
            return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) { characters in
                sqlite_nio_sqlite3_bind_text64(
                    statement,
                    position,
                    characters,
                    UInt64(bytes.count),
                    transient,
                    UInt8(SQLITE_UTF8)
                )
            }
        }
    }

    private func failure(_ status: Int32, _ sql: String) -> StoreError {
        let message = sqlite_nio_sqlite3_errmsg(handle).map { String(cString: $0) } ?? "status \(status)"
        return StoreError("SQLite: \(message) (\(status)) in \(sql.prefix(80))")
    }
}

/// A value bound to a statement of `SQLiteDirectConnection`.
enum DirectValue {
    case integer(Int64)
    case text(String)
}

/// The current row of a statement being stepped; valid only inside the row callback.
struct DirectRow {
    fileprivate let statement: OpaquePointer

    /// Column `index` (from 0) as an integer.
    func integer(_ index: Int32) -> Int64 {
        sqlite_nio_sqlite3_column_int64(statement, index)
    }

    /// Column `index` (from 0) as text; empty for NULL.
    func text(_ index: Int32) -> String {
        guard let bytes = sqlite_nio_sqlite3_column_text(statement, index) else { return "" }
        let count = Int(sqlite_nio_sqlite3_column_bytes(statement, index))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }
}

public import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
public import SQLiteNIO
import SwitchboardCore

/// The embedded database: one writer connection used by one `SQLiteWriter`, and reader connections
/// each lent to one query at a time (WAL lets reads run beside the writer).
public final class SQLiteStorage: Sendable {
    /// The SQLiteNIO connection of the writer's exclusive jobs (appends have their own, on the writer's
    /// thread), only ever from the writer's loop.
    let writerConnection: SQLiteConnection
    private let readers: SQLiteReaderPool
    /// Serializes writes (appends, trims, admin changes) so that each runs alone in its transaction.
    public let writer: SQLiteWriter

    /// The writer's thread and its connection for appends.
    private let appendThread: SQLiteAppendThread

    private init(
        writer: SQLiteConnection,
        appendThread: SQLiteAppendThread,
        readers: [SQLiteConnection],
        maximumQueuedBytes: Int,
        logger: Logger
    ) {
        self.writerConnection = writer
        self.appendThread = appendThread
        self.readers = SQLiteReaderPool(readers)
        self.writer = SQLiteWriter(
            connection: writer,
            appendThread: appendThread,
            maximumQueuedBytes: maximumQueuedBytes,
            logger: logger
        )
    }

    /// Opens (creating when missing) `switchboard.sqlite` in the data directory and migrates it.
    public static func open(configuration: StoreConfiguration, logger: Logger) async throws -> SQLiteStorage {
        let path = configuration.dataDirectory + "/switchboard.sqlite"
        let threadPool = NIOThreadPool.singleton
        let loop = MultiThreadedEventLoopGroup.singleton.any()
        let writer = try await SQLiteConnection.open(
            storage: .file(path: path),
            threadPool: threadPool,
            logger: logger,
            on: loop
        )
        let synchronous = configuration.durability == .full ? "FULL" : "NORMAL"
        var appendThread: SQLiteAppendThread?
        var readers: [SQLiteConnection] = []
        do {
            for pragma in writerPragmas(synchronous: synchronous) {
                _ = try await writer.query(pragma)
            }
            try await migrate(writer, logger: logger)
            let appends = try SQLiteAppendThread(path: path, synchronous: synchronous)
            appendThread = appends
            for _ in 0..<2 {
                let reader = try await SQLiteConnection.open(
                    storage: .file(path: path),
                    threadPool: threadPool,
                    logger: logger,
                    on: loop
                )
                readers.append(reader)
                _ = try await reader.query("PRAGMA busy_timeout = 5000")
                _ = try await reader.query("PRAGMA cache_size = -32768")
            }
            return SQLiteStorage(
                writer: writer,
                appendThread: appends,
                readers: readers,
                maximumQueuedBytes: configuration.maximumQueuedAppendBytes,
                logger: logger
            )
        } catch {
            // Nothing of a store that failed to open stays open: connections, and the append thread.
            for reader in readers { try? await reader.close() }
            await appendThread?.close()
            try? await writer.close()
            throw error
        }
    }

    /// The settings of both writer connections (the exclusive jobs' and the appends'), `synchronous`
    /// being `FULL` or `NORMAL`.
    static func writerPragmas(synchronous: String) -> [String] {
        [
            "PRAGMA journal_mode = WAL", "PRAGMA synchronous = \(synchronous)", "PRAGMA foreign_keys = ON",
            "PRAGMA busy_timeout = 5000", "PRAGMA cache_size = -65536",
        ]
    }

    /// Runs a read query on a reader connection no other query is using; refused once the storage is
    /// closing, so that a late reader (a request or a task that outlived shutdown) never touches a
    /// closed connection.
    func read(_ sql: String, _ binds: [SQLiteData] = []) async throws -> [SQLiteRow] {
        try await readers.withConnection { try await $0.query(sql, binds) }
    }

    /// Closes every connection once the reads in flight are done; the writer must have stopped.
    public func close() async {
        await readers.close()
        await appendThread.close()
        try? await writerConnection.close()
    }

    private static func migrate(_ connection: SQLiteConnection, logger: Logger) async throws {
        _ = try await connection.query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL)"
        )
        let rows = try await connection.query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")
        let current = rows.first?.column("v")?.integer ?? 0
        for migration in SQLiteMigrations.all where migration.version > current {
            do {
                try await connection.transaction {
                    for statement in migration.sql {
                        _ = try await connection.query(statement)
                    }
                    _ = try await connection.query(
                        "INSERT INTO schema_migrations (version, applied_ms) VALUES (?, strftime('%s','now') * 1000)",
                        [.integer(migration.version)]
                    )
                }
            } catch {
                throw StoreError("migration \(migration.version) failed: \(error)")
            }
            logger.info("applied migration", metadata: ["sb.migration": "\(migration.version)"])
        }
    }
}

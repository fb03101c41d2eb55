public import Logging
import NIOSSL
public import PostgresNIO

/// The shared PostgreSQL database of one or more nodes: a pool of connections (`PostgresClient`),
/// running from `open` to `close`, and the schema, migrated at open.
///
/// Every connection runs with `synchronous_commit = on`, so that an acknowledged publish is on the
/// primary's disk whatever the server's default.
public final class PostgresStorage: Sendable {
    /// The pool every query leases a connection from.
    public let client: PostgresClient
    /// Where the database is, for connections outside the pool (the doorbell's listener).
    public let address: PostgresAddress
    let logger: Logger
    /// The pool's background work. An unstructured task because the pool must serve the migrations
    /// before the services start; `close()` cancels it and waits for it, so it never outlives the storage.
    private let running: Task<Void, Never>

    private init(
        client: PostgresClient,
        address: PostgresAddress,
        logger: Logger,
        started: @escaping @Sendable () -> Void
    ) {
        self.client = client
        self.address = address
        self.logger = logger
        self.running = Task {
            started()
            await client.run()
        }
    }

    /// Connects to the database at `address` and migrates it; throws when it cannot be reached.
    public static func open(
        address: PostgresAddress,
        maximumConnections: Int = 20,
        logger: Logger
    ) async throws -> PostgresStorage {
        var configuration = PostgresClient.Configuration(
            host: address.host,
            port: address.port,
            username: address.username,
            password: address.password,
            database: address.database,
            tls: address.tls.clientTLS
        )
        configuration.options.maximumConnections = max(2, maximumConnections)
        // A transaction left open by a call abandoned at its deadline (`StoreDeadline`) is ended by the
        // server after a minute, with its locks.
        configuration.options.additionalStartupParameters = [
            ("synchronous_commit", "on"), ("application_name", "switchboard"),
            ("idle_in_transaction_session_timeout", "60000"),
        ]
        // The pool serves leases only once its `run()` was entered: wait for that before the first query.
        let (started, start) = AsyncStream.makeStream(of: Void.self)
        let storage = PostgresStorage(
            client: PostgresClient(configuration: configuration, backgroundLogger: logger),
            address: address,
            logger: logger,
            started: { start.finish() }
        )
        for await _ in started {}
        do {
            try await storage.migrate()
        } catch {
            await storage.close()
            throw StoreError("cannot open the database at \(address): \(postgresErrorText(error))")
        }
        return storage
    }

    /// Stops the pool and closes its connections.
    public func close() async {
        running.cancel()
        await running.value
    }

    /// Runs `query` on a pooled connection.
    @discardableResult
    func query(_ query: PostgresQuery) async throws -> PostgresRowSequence {
        try await client.query(query, logger: logger)
    }

    /// Runs `body` in a transaction on one pooled connection: committed when it returns, rolled back
    /// when it throws.
    func transaction<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await client.withTransaction(logger: logger) { connection in try await body(connection) }
    }

    private func migrate() async throws {
        try await transaction { connection in
            // Nodes starting together migrate one after the other: the lock is held until commit.
            try await connection.query("SELECT pg_advisory_xact_lock(\(AdvisoryLock.migrations.key))", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_ms BIGINT NOT NULL)",
                logger: logger
            )
            let rows = try await connection.query(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                logger: logger
            )
            var current = 0
            for try await (version) in rows.decode(Int.self) { current = version }
            for migration in PostgresMigrations.all where migration.version > current {
                for statement in migration.sql {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    """
                    INSERT INTO schema_migrations (version, applied_ms)
                    VALUES (\(migration.version), (extract(epoch FROM now()) * 1000)::bigint)
                    """,
                    logger: logger
                )
                logger.info("applied migration", metadata: ["sb.migration": "\(migration.version)"])
            }
        }
    }
}

/// The advisory locks that make one node at a time do a piece of work.
enum AdvisoryLock: Int64 {
    /// Takes the lock for the rest of `connection`'s transaction, if no other node holds it; whether
    /// it was taken.
    func tryTake(on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let rows = try await connection.query("SELECT pg_try_advisory_xact_lock(\(key))", logger: logger)
        var granted = false
        for try await value in rows.decode(Bool.self) { granted = value }
        return granted
    }

    case migrations = 0x5342_0001
    case retention = 0x5342_0002
    case deliveryHistory = 0x5342_0003
    /// Reaping dead nodes' presence, and publishing the presence journal.
    case presence = 0x5342_0004

    var key: Int64 { rawValue }
}

extension PostgresAddress.TLSMode {
    /// The pool's TLS setting for this mode.
    var clientTLS: PostgresClient.Configuration.TLS {
        switch self {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
    }
}

/// What went wrong in a PostgreSQL call, for logs and errors: the server's SQLSTATE and message, or
/// the client's error code, never the statement or its values (which hold event data and keys).
func postgresErrorText(_ error: any Error) -> String {
    if let error = error as? PSQLError {
        if let state = error.serverInfo?[.sqlState] {
            return "SQLSTATE \(state): \(error.serverInfo?[.message] ?? "no message")"
        }
        return "PostgreSQL client error \(error.code)"
    }
    if let error = error as? PostgresTransactionError {
        if let underlying = error.closureError ?? error.beginError ?? error.commitError {
            return postgresErrorText(underlying)
        }
        return "transaction failed"
    }
    return String(describing: error)
}

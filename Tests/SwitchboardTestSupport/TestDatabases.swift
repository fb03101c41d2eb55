import Foundation
import Logging
import PostgresNIO
public import SwitchboardStore

/// Databases of their own for tests, on the PostgreSQL server named by
/// `POSTGRES_TEST_URL` (`scripts/postgres.sh start` prints one).
public enum TestDatabases {
    /// The test server; throws when none is named, which under CI fails the test.
    public static func server() throws -> PostgresAddress {
        guard let url = ProcessInfo.processInfo.environment[StoreBackend.postgresVariable], !url.isEmpty else {
            throw StoreError(
                "no PostgreSQL server for the tests: set \(StoreBackend.postgresVariable) (scripts/postgres.sh start DIR prints one)"
            )
        }
        return try PostgresAddress(url: url)
    }

    /// Creates an empty database, runs `body` with its address, then drops it.
    public static func withTemporary<T>(_ body: (PostgresAddress) async throws -> T) async throws -> T {
        let server = try server()
        let name = "switchboard_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await administer(server) { connection, logger in
            try await connection.query("CREATE DATABASE \(unescaped: name)", logger: logger)
        }
        do {
            let result = try await body(server.with(database: name))
            try await drop(name, on: server)
            return result
        } catch {
            try? await drop(name, on: server)
            throw error
        }
    }

    private static func drop(_ name: String, on server: PostgresAddress) async throws {
        try await administer(server) { connection, logger in
            try await connection.query("DROP DATABASE IF EXISTS \(unescaped: name) WITH (FORCE)", logger: logger)
        }
    }

    /// Ends the doorbell listeners' connections to `database` (as an operator's `pg_terminate_backend`
    /// would); returns how many were ended.
    public static func terminateDoorbellListeners(of database: PostgresAddress) async throws -> Int {
        var ended = 0
        try await administer(database) { connection, logger in
            let rows = try await connection.query(
                """
                SELECT (count(*) FILTER (WHERE pg_terminate_backend(pid)))::int FROM pg_stat_activity
                WHERE application_name = 'switchboard-doorbell' AND datname = \(database.database)
                """,
                logger: logger
            )
            for try await count in rows.decode(Int.self) { ended = count }
        }
        return ended
    }

    /// How many doorbell listeners are connected to `database`.
    public static func doorbellListeners(of database: PostgresAddress) async throws -> Int {
        var listening = 0
        try await administer(database) { connection, logger in
            let rows = try await connection.query(
                """
                SELECT count(*)::int FROM pg_stat_activity
                WHERE application_name = 'switchboard-doorbell' AND datname = \(database.database)
                """,
                logger: logger
            )
            for try await count in rows.decode(Int.self) { listening = count }
        }
        return listening
    }

    /// Runs `body` on a connection of its own to the server's own database.
    private static func administer(
        _ server: PostgresAddress,
        _ body: (PostgresConnection, Logger) async throws -> Void
    ) async throws {
        var logger = Logger(label: "test-databases")
        logger.logLevel = .critical
        let connection = try await PostgresConnection.connect(
            configuration: PostgresConnection.Configuration(
                host: server.host,
                port: server.port,
                username: server.username,
                password: server.password,
                database: server.database,
                tls: .disable
            ),
            id: 1,
            logger: logger
        )
        do {
            try await body(connection, logger)
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }
}

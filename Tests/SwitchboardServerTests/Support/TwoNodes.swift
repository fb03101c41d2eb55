import SwitchboardEngine
import SwitchboardServer
import SwitchboardStore
import SwitchboardTestSupport

/// Two real servers on one fresh PostgreSQL database, polling the log every 200 ms; the second uses the
/// first's admin key (it makes none).
enum TwoNodes {
    static func with(
        configure more: @escaping (inout ServerConfiguration) -> Void = { _ in },
        _ body: (TestServer, TestServer, PostgresAddress) async throws -> Void
    ) async throws {
        try await TestDatabases.withTemporary { database in
            let configure: (inout ServerConfiguration) -> Void = { configuration in
                configuration.engine.store.database = database
                configuration.engine.store.clusterPollMilliseconds = 200
                more(&configuration)
            }
            try await TestServer.with(configure: configure) { first in
                try await TestServer.with(configure: configure) { second in
                    try await body(first, second, database)
                }
            }
        }
    }
}

public import Logging

extension SQLiteStorage {
    /// Opens the embedded database in `configuration.dataDirectory` as the engine's store.
    public static func openStore(
        configuration: StoreConfiguration,
        environment: StoreEnvironment,
        logger: Logger
    ) async throws -> OpenedStore {
        let database = try await SQLiteStorage.open(configuration: configuration, logger: logger)
        let log = SQLiteEventLog(
            database: database,
            configuration: configuration,
            now: environment.now,
            random: environment.random,
            onCommit: environment.onCommit
        )
        return OpenedStore(
            log: log,
            deliveries: SQLiteDeliveryQueue(database: database),
            adminStore: SQLiteAdminStore(database: database),
            services: [database.writer],
            close: { await database.close() }
        )
    }
}

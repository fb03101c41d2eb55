public import Logging
import SwitchboardCore

extension PostgresStorage {
    /// Opens the PostgreSQL database at `address` as the engine's store. The node's leases are held
    /// under a name drawn from the environment's randomness, new for every start.
    public static func openStore(
        address: PostgresAddress,
        configuration: StoreConfiguration,
        environment: StoreEnvironment,
        logger: Logger
    ) async throws -> OpenedStore {
        let storage = try await PostgresStorage.open(address: address, logger: logger)
        var generator = environment.random
        let node = "node_" + RandomToken.base62(count: 16, using: &generator)
        let clock = DatabaseClock(now: environment.now)
        do {
            try await clock.measure(on: storage)
        } catch {
            await storage.close()
            throw StoreError("cannot read the database's clock at \(address): \(postgresErrorText(error))")
        }
        let doorbell = PostgresDoorbell(
            storage: storage,
            node: node,
            clock: clock,
            random: environment.random,
            logger: logger,
            onNews: environment.onDoorbell
        )
        let log = PostgresEventLog(
            storage: storage,
            configuration: configuration,
            now: environment.now,
            random: environment.random,
            onCommit: { events in
                environment.onCommit(events)
                doorbell.ring(events)
            }
        )
        logger.info("opened PostgreSQL store", metadata: ["sb.database": "\(address)", "sb.node": "\(node)"])
        return OpenedStore(
            log: log,
            deliveries: PostgresDeliveryQueue(storage: storage, node: node, clock: clock),
            adminStore: PostgresAdminStore(storage: storage),
            services: [log.writer, doorbell],
            isShared: true,
            sharedPresence: PostgresPresence(storage: storage, node: node, clock: clock),
            close: { await storage.close() }
        )
    }
}

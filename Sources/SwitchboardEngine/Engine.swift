import FoundationEssentials
public import Logging
import NIOConcurrencyHelpers
public import ServiceLifecycle
public import SwitchboardCore
public import SwitchboardStore

/// The running system without its HTTP edge: the log, the admin store, the publisher, the hub and
/// the services that keep them going.
public final class Engine: Sendable {
    /// Settings.
    public let configuration: EngineConfiguration
    /// The durable log.
    public let log: any EventLog
    /// Keys and webhook endpoints (and later sources).
    public let adminStore: any AdminStore
    /// Webhook deliveries and their attempts.
    public let deliveries: any DeliveryQueue
    /// Sends webhooks.
    public let deliveryWorker: DeliveryWorker
    /// Connected `switchboard listen` sessions.
    public let relays: WebhookRelays
    /// The one path into the log.
    public let publisher: Publisher
    /// Local fan-out.
    public let hub: Hub
    /// Who is present in which channel.
    public let presence: PresenceRegistry
    /// Real-time connections by user and address.
    public let connections: ConnectionRegistry
    /// Inbound webhook sources and their request logs.
    public let inbound: InboundSources
    /// Metrics of this server.
    public let metrics: EngineMetrics
    /// Long-running parts, in start order (shutdown runs in reverse).
    public let services: [any Service]
    /// The clocks and randomness everything reads.
    public let ambient: Ambient
    private let closeStore: @Sendable () async -> Void

    /// Opens the store with `openStore` (the composition root picks the backend) and wires the engine
    /// around it: committed events reach the hub and wake the delivery worker.
    public static func open(
        configuration: EngineConfiguration,
        ambient: Ambient = .system,
        logger: Logger,
        openStore: (StoreEnvironment) async throws -> OpenedStore
    ) async throws -> Engine {
        let metrics = EngineMetrics()
        let hub = Hub(metrics: metrics)
        // The worker is woken by commits, and it needs the store: it is made once the store is open. So
        // is the follower, which a store shared by several nodes needs between the commits and the hub.
        let worker = NIOLockedValueBox<DeliveryWorker?>(nil)
        let follower = NIOLockedValueBox<ClusterFollower?>(nil)
        let store = try await openStore(
            StoreEnvironment(
                now: ambient.wallClock,
                random: ambient.randomNumberGenerator,
                onCommit: { events in
                    if let follower = follower.withLockedValue({ $0 }) {
                        follower.committedHere(events)
                    } else {
                        hub.publish(events)
                    }
                    worker.withLockedValue { $0 }?.eventsCommitted()
                },
                onDoorbell: { news in
                    follower.withLockedValue { $0 }?.heard(news)
                    if news == .catchUp { ambient.report(.clusterCatchUp) }
                }
            )
        )
        if store.isShared {
            let clusterFollower = ClusterFollower(
                log: store.log,
                hub: hub,
                pollInterval: .milliseconds(configuration.store.clusterPollMilliseconds),
                maximumPageBytes: configuration.limits.maximumPageBytes,
                logger: logger
            )
            hub.setInterest(clusterFollower)
            follower.withLockedValue { $0 = clusterFollower }
        }
        return Engine(
            configuration: configuration,
            store: store,
            hub: hub,
            metrics: metrics,
            worker: worker,
            follower: follower.withLockedValue { $0 },
            ambient: ambient,
            logger: logger
        )
    }

    private init(
        configuration: EngineConfiguration,
        store: OpenedStore,
        hub: Hub,
        metrics: EngineMetrics,
        worker: NIOLockedValueBox<DeliveryWorker?>,
        follower: ClusterFollower?,
        ambient: Ambient,
        logger: Logger
    ) {
        self.ambient = ambient
        let log = store.log
        let adminStore = store.adminStore
        let deliveries = store.deliveries
        let publisher = Publisher(log: log, metrics: metrics)
        let relays = WebhookRelays()
        let deliveryWorker = DeliveryWorker(
            queue: deliveries,
            adminStore: adminStore,
            settings: configuration.webhooks,
            metrics: metrics,
            userAgent: "Switchboard/\(SwitchboardVersion.current)",
            ambient: ambient,
            relays: relays,
            publish: { drafts in
                do {
                    _ = try await publisher.publish(drafts)
                } catch {
                    logger.warning("publishing a $system event failed", metadata: ["sb.error": "\(error)"])
                }
            },
            storeIsShared: store.isShared,
            logger: logger
        )
        worker.withLockedValue { $0 = deliveryWorker }
        let presenceService: any Service
        var occupancyServices: [any Service] = []
        if let sharedPresence = store.sharedPresence {
            var generator = ambient.randomNumberGenerator
            let occupancy = configuration.journalsOccupancy ? SharedOccupancy(using: &generator) : nil
            let (registry, cluster) = PresenceRegistry.shared(store: sharedPresence, hub: hub) { localMemberships in
                ClusterPresence(
                    store: sharedPresence,
                    ttl: .milliseconds(configuration.store.nodeTTLMilliseconds),
                    ambient: ambient,
                    metrics: metrics,
                    logger: logger,
                    publish: { drafts in _ = try await publisher.publish(drafts) },
                    localMemberships: { localMemberships() + (occupancy?.memberships(of: hub) ?? []) }
                )
            }
            if let occupancy { hub.setOccupancyObserver(occupancy.observer(carriedBy: cluster)) }
            self.presence = registry
            presenceService = cluster
        } else {
            let journal = PresenceJournal(dropped: metrics.presenceRecordsDropped, logger: logger) {
                drafts throws(SwitchboardError) in
                _ = try await publisher.publish(drafts)
            }
            self.presence = PresenceRegistry(journal: journal)
            presenceService = journal
        }
        if configuration.journalsOccupancy, store.sharedPresence == nil {
            let journal = LocalOccupancy.journal(of: log, metrics: metrics, logger: logger) {
                drafts throws(SwitchboardError) in
                _ = try await publisher.publish(drafts)
            }
            hub.setOccupancyObserver(LocalOccupancy.observer(recordingIn: journal))
            occupancyServices.append(journal)
        }
        self.connections = ConnectionRegistry(
            maximumPerUser: configuration.limits.maximumConnectionsPerUser,
            maximumPerAddress: configuration.limits.maximumConnectionsPerAddress
        )
        self.inbound = InboundSources(configured: configuration.inboundSources, store: adminStore)
        self.configuration = configuration
        self.closeStore = store.close
        self.metrics = metrics
        self.hub = hub
        self.log = log
        self.adminStore = adminStore
        self.deliveries = deliveries
        self.deliveryWorker = deliveryWorker
        self.relays = relays
        self.publisher = publisher
        self.services =
            store.services + (follower.map { [$0] } ?? []) + [
                RetentionSweeper(
                    log: log,
                    deliveries: deliveries,
                    deliveryHistory: configuration.webhooks.history,
                    policies: configuration.namespaces,
                    interval: configuration.retentionInterval,
                    now: ambient.wallClock,
                    logger: logger
                ),
                deliveryWorker,
                presenceService,
            ] + occupancyServices
    }

    /// Closes the store's connections; call after the services stopped.
    public func close() async {
        await closeStore()
    }

    /// The machine's wall-clock time (for the CLI; the engine reads `ambient`).
    @Sendable public static func wallClock() -> Timestamp {
        Ambient.system.wallClock()
    }
}

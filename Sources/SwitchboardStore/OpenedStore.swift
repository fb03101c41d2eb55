public import ServiceLifecycle
public import SwitchboardCore

/// What a store backend is handed when it opens: the clock and randomness it stamps new events with,
/// and where it reports committed events (in commit order, before their appends return).
public struct StoreEnvironment: Sendable {
    /// The wall clock that stamps events and decides idempotency windows.
    public let now: @Sendable () -> Timestamp
    /// The source of event ids.
    public let random: RandomBitsGenerator
    /// Receives every committed event, in commit order.
    public let onCommit: @Sendable ([Event]) -> Void
    /// Receives what the other nodes sharing the store say they committed (a shared store only).
    public let onDoorbell: @Sendable (DoorbellNews) -> Void

    /// Makes an environment.
    public init(
        now: @escaping @Sendable () -> Timestamp,
        random: RandomBitsGenerator,
        onCommit: @escaping @Sendable ([Event]) -> Void,
        onDoorbell: @escaping @Sendable (DoorbellNews) -> Void = { _ in }
    ) {
        self.now = now
        self.random = random
        self.onCommit = onCommit
        self.onDoorbell = onDoorbell
    }
}

/// A store backend, opened: the log, the delivery queue and the admin records the engine works on,
/// the services that must run while they are used, and how to close it. The composition root picks
/// the backend; the engine sees only these.
public struct OpenedStore: Sendable {
    /// The durable log.
    public let log: any EventLog
    /// Webhook deliveries and their attempts.
    public let deliveries: any DeliveryQueue
    /// Keys, endpoints and sources.
    public let adminStore: any AdminStore
    /// Long-running parts of the backend (SQLite's writer), started before the engine's own.
    public let services: [any Service]
    /// Closes the backend's connections; called after the services stopped.
    public let close: @Sendable () async -> Void
    /// Whether other nodes may append to the same log: this node then also follows the log for their
    /// events (`onDoorbell` hints, and polls).
    public let isShared: Bool
    /// Presence shared with the other nodes (a shared store only); nil: presence is this process's.
    public let sharedPresence: (any SharedPresenceStore)?

    /// Makes an opened store.
    public init(
        log: any EventLog,
        deliveries: any DeliveryQueue,
        adminStore: any AdminStore,
        services: [any Service],
        isShared: Bool = false,
        sharedPresence: (any SharedPresenceStore)? = nil,
        close: @escaping @Sendable () async -> Void
    ) {
        self.isShared = isShared
        self.sharedPresence = sharedPresence
        self.log = log
        self.deliveries = deliveries
        self.adminStore = adminStore
        self.services = services
        self.close = close
    }
}

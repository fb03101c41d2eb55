public import SwitchboardCore
public import SwitchboardStore

/// What the engine needs to run: the store, namespace policies, limits, webhooks, inbound sources and
/// development mode.
public struct EngineConfiguration: Sendable, Equatable {
    /// The embedded store.
    public var store: StoreConfiguration
    /// Per-namespace policies.
    public var namespaces: NamespacePolicies
    /// Request limits.
    public var limits: Limits
    /// Anyone may subscribe and publish; loudly announced at start.
    public var isDevelopmentMode: Bool
    /// How often retention runs.
    public var retentionInterval: Duration
    /// Webhook delivery.
    public var webhooks: WebhookSettings
    /// Inbound webhook sources of the configuration file (read-only; others are made through the API).
    public var inboundSources: [InboundSource]
    /// Channels gaining their first subscriber on this node and losing their last are journaled on
    /// `$occupancy:<channel>` (for Pusher's `channel_occupied` and `channel_vacated` webhooks).
    public var journalsOccupancy: Bool

    /// Makes a configuration.
    public init(
        store: StoreConfiguration,
        namespaces: NamespacePolicies = NamespacePolicies(),
        limits: Limits = Limits(),
        isDevelopmentMode: Bool = false,
        retentionInterval: Duration = .seconds(30),
        webhooks: WebhookSettings = WebhookSettings(),
        inboundSources: [InboundSource] = [],
        journalsOccupancy: Bool = false
    ) {
        self.store = store
        self.namespaces = namespaces
        self.limits = limits
        self.isDevelopmentMode = isDevelopmentMode
        self.retentionInterval = retentionInterval
        self.webhooks = webhooks
        self.inboundSources = inboundSources
        self.journalsOccupancy = journalsOccupancy
    }

    /// The access rules these settings imply.
    public var accessPolicy: AccessPolicy {
        AccessPolicy(namespaces: namespaces, isDevelopmentMode: isDevelopmentMode)
    }
}

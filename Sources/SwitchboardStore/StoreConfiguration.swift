/// Where and how the store keeps data: the embedded SQLite database in `dataDirectory`, or the
/// PostgreSQL database at `database` when one is named.
public struct StoreConfiguration: Hashable, Sendable {
    /// How hard a commit is pushed to disk before a publish is acknowledged.
    public enum Durability: String, Hashable, Sendable {
        /// fsync on every commit (group commit shares it between concurrent publishes).
        case full
        /// fsync at WAL checkpoints only: a power loss may lose the last commits, a crash of the process does not.
        case normal
    }

    /// The folder holding the SQLite database and the admin key.
    public var dataDirectory: String
    /// The PostgreSQL database shared by the nodes; nil for the embedded SQLite database.
    public var database: PostgresAddress?
    /// Commit durability.
    public var durability: Durability
    /// How long idempotency keys are remembered, in seconds.
    public var idempotencyWindowSeconds: Int
    /// How long inbound webhook delivery ids are remembered, in seconds: longer than providers retry
    /// (Stripe 3 days, GitHub's manual redelivery 3 days).
    public var inboundDeduplicationSeconds: Int
    /// Most events one group commit takes.
    public var maximumGroupEvents: Int
    /// Most bytes of appends waiting for the writer (their `data` plus a fixed amount per event); past
    /// it an append is refused with `unavailable` and `Retry-After` before anything of it is stored.
    public var maximumQueuedAppendBytes: Int
    /// How often a node sharing the database reads the heads of the channels its readers follow, in
    /// milliseconds: the longest an event of another node waits when its doorbell is lost.
    public var clusterPollMilliseconds: Int
    /// How long a node sharing the database stays alive without a heartbeat, in milliseconds (it beats
    /// every third of it): a dead node's presence members leave at most about 4/3 of this after it died.
    public var nodeTTLMilliseconds: Int

    /// Makes a configuration.
    public init(
        dataDirectory: String,
        durability: Durability = .full,
        idempotencyWindowSeconds: Int = 86_400,
        inboundDeduplicationSeconds: Int = 604_800,
        maximumGroupEvents: Int = 4096,
        maximumQueuedAppendBytes: Int = 64 << 20,
        database: PostgresAddress? = nil,
        clusterPollMilliseconds: Int = 500,
        nodeTTLMilliseconds: Int = 30_000
    ) {
        self.nodeTTLMilliseconds = nodeTTLMilliseconds
        self.clusterPollMilliseconds = clusterPollMilliseconds
        self.database = database
        self.maximumQueuedAppendBytes = maximumQueuedAppendBytes
        self.dataDirectory = dataDirectory
        self.durability = durability
        self.idempotencyWindowSeconds = idempotencyWindowSeconds
        self.inboundDeduplicationSeconds = inboundDeduplicationSeconds
        self.maximumGroupEvents = maximumGroupEvents
    }
}

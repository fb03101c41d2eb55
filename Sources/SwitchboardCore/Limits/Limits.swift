/// Size, count and rate limits applied to requests and connections; every one is configurable
/// (`limits.*`) and refused with a documented error.
public struct Limits: Hashable, Sendable {
    /// Largest `data` of one event, in bytes of compact JSON (`too_large`).
    public var maximumDataBytes: Int
    /// Most events in one batch publish.
    public var maximumBatchSize: Int
    /// Largest page a history read returns.
    public var maximumHistoryPage: Int
    /// Most `data` bytes one page read from the log holds (history, long-poll, and every transport's
    /// catch-up); a page always holds at least one event.
    public var maximumPageBytes: Int
    /// Longest long-poll wait, in seconds.
    public var maximumWaitSeconds: Int
    /// Largest HTTP request body or WebSocket message accepted, in bytes (`too_large`, close `1009`).
    public var maximumRequestBytes: Int
    /// Largest single WebSocket frame, in bytes (close `1009`).
    public var maximumFrameBytes: Int
    /// Events a second one API key may publish (0: no limit; `rate_limited`).
    public var keyPublishRate: Int
    /// Events a second one real-time connection may publish (0: no limit; an `error` `rate_limited`).
    public var connectionPublishRate: Int
    /// Commands a second one WebSocket connection may send before it is closed with `4029`.
    public var connectionCommandRate: Int
    /// Presence joins a second one connection may make (each join, and its leave, is a durable
    /// `$presence:` event); past it a subscribe to a presence channel gets `rate_limited`.
    public var presenceJoinRate: Int
    /// Channels one connection may be subscribed to at once (`bad_request`).
    public var maximumSubscriptionsPerConnection: Int
    /// Real-time connections one user (token `sub`) may hold on one server (`4029` / `rate_limited`).
    public var maximumConnectionsPerUser: Int
    /// Real-time connections one client address may hold on one server (`4029` / `rate_limited`).
    public var maximumConnectionsPerAddress: Int

    /// Makes limits; the defaults are PROTOCOL.md's and docs/security.md's.
    public init(
        maximumDataBytes: Int = 64 * 1024,
        maximumBatchSize: Int = 1000,
        maximumHistoryPage: Int = 1000,
        maximumPageBytes: Int = 1 << 20,
        maximumWaitSeconds: Int = 60,
        maximumRequestBytes: Int = 8 * 1024 * 1024,
        maximumFrameBytes: Int = 1 << 20,
        keyPublishRate: Int = 10_000,
        connectionPublishRate: Int = 100,
        connectionCommandRate: Int = 1000,
        presenceJoinRate: Int = 10,
        maximumSubscriptionsPerConnection: Int = 1000,
        maximumConnectionsPerUser: Int = 100,
        maximumConnectionsPerAddress: Int = 10_000
    ) {
        self.maximumDataBytes = maximumDataBytes
        self.maximumBatchSize = maximumBatchSize
        self.maximumHistoryPage = maximumHistoryPage
        self.maximumPageBytes = maximumPageBytes
        self.maximumWaitSeconds = maximumWaitSeconds
        self.maximumRequestBytes = maximumRequestBytes
        self.maximumFrameBytes = maximumFrameBytes
        self.keyPublishRate = keyPublishRate
        self.connectionPublishRate = connectionPublishRate
        self.connectionCommandRate = connectionCommandRate
        self.presenceJoinRate = presenceJoinRate
        self.maximumSubscriptionsPerConnection = maximumSubscriptionsPerConnection
        self.maximumConnectionsPerUser = maximumConnectionsPerUser
        self.maximumConnectionsPerAddress = maximumConnectionsPerAddress
    }
}

/// Size and count limits applied to requests.
public struct Limits: Hashable, Sendable {
    /// Largest `data` of one event, in bytes of compact JSON.
    public var maximumDataBytes: Int
    /// Most events in one batch publish.
    public var maximumBatchSize: Int
    /// Largest page a history read returns.
    public var maximumHistoryPage: Int
    /// Longest long-poll wait, in seconds.
    public var maximumWaitSeconds: Int
    /// Largest HTTP request body or WebSocket message accepted, in bytes.
    public var maximumRequestBytes: Int

    /// Makes limits; the defaults are PROTOCOL.md's.
    public init(
        maximumDataBytes: Int = 64 * 1024,
        maximumBatchSize: Int = 1000,
        maximumHistoryPage: Int = 1000,
        maximumWaitSeconds: Int = 60,
        maximumRequestBytes: Int = 8 * 1024 * 1024
    ) {
        self.maximumDataBytes = maximumDataBytes
        self.maximumBatchSize = maximumBatchSize
        self.maximumHistoryPage = maximumHistoryPage
        self.maximumWaitSeconds = maximumWaitSeconds
        self.maximumRequestBytes = maximumRequestBytes
    }
}

public import Logging
public import ServiceLifecycle
public import SwitchboardCore
public import SwitchboardStore

/// Trims the log to each namespace's retention, forgets expired idempotency keys and removes webhook
/// deliveries finished longer ago than their history is kept, periodically.
public struct RetentionSweeper: Service {
    private let log: any EventLog
    private let deliveries: any DeliveryQueue
    private let deliveryHistory: Duration
    private let policies: NamespacePolicies
    private let interval: Duration
    private let now: @Sendable () -> Timestamp
    private let logger: Logger

    /// Makes a sweeper that runs every `interval`.
    public init(
        log: any EventLog,
        deliveries: any DeliveryQueue,
        deliveryHistory: Duration,
        policies: NamespacePolicies,
        interval: Duration,
        now: @escaping @Sendable () -> Timestamp,
        logger: Logger
    ) {
        self.log = log
        self.deliveries = deliveries
        self.deliveryHistory = deliveryHistory
        self.policies = policies
        self.interval = interval
        self.now = now
        self.logger = logger
    }

    /// Sweeps until cancelled or shut down.
    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            do {
                let removed = try await log.trim(policies: policies, now: now())
                if removed > 0 { logger.debug("retention trimmed events", metadata: ["sb.removed": "\(removed)"]) }
            } catch {
                logger.warning("retention sweep failed", metadata: ["sb.error": "\(StoreError.logText(error))"])
            }
            do {
                let cutoff = Timestamp(
                    millisecondsSinceEpoch: now().millisecondsSinceEpoch - deliveryHistory.wholeMilliseconds
                )
                let removed = try await deliveries.trimFinished(before: cutoff, limit: 10_000)
                if removed > 0 { logger.debug("removed finished deliveries", metadata: ["sb.removed": "\(removed)"]) }
            } catch {
                logger.warning("delivery history sweep failed", metadata: ["sb.error": "\(StoreError.logText(error))"])
            }
        }
    }
}

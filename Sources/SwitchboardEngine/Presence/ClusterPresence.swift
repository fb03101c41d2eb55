import Logging
import NIOConcurrencyHelpers
import Prometheus
public import ServiceLifecycle
import SwitchboardCore
import SwitchboardStore

/// Carries this node's joins and leaves to the presence the nodes share (`SharedPresenceStore`), in
/// the order they happened, from one task; keeps the node alive there with a heartbeat every third of
/// its TTL; reaps the nodes whose heartbeat ran out; and publishes the shared journal of joins and
/// leaves to the log (`$presence:<channel>`), from where every node's members hear them.
///
/// A join or a leave is queued without waiting (the queue is bounded: past it an operation is dropped,
/// counted and logged) and retried, in order, while the store fails. A node whose heartbeat was late
/// enough to be reaped joins its connections again. At shutdown it removes its own connections, so a
/// node stopped gracefully leaves no member behind for the reaper.
final class ClusterPresence: Service, Sendable {
    enum Operation: Sendable {
        case join(ChannelName, PresenceMember)
        case leave(ChannelName, client: String)
    }

    static let capacity = 100_000
    /// The waits before trying a failed operation again.
    private static let retry = ReconnectPolicy(initialDelay: .milliseconds(100), maximumDelay: .seconds(3))

    private let store: any SharedPresenceStore
    private let ttl: Duration
    private let pending = NIOLockedValueBox<[Operation]>([])
    /// Operations dropped since the last warning about them (logged by the run loop, not by
    /// `enqueue`, which the hub calls under its lock).
    private let unreportedDrops = NIOLockedValueBox(0)
    private let bell = WakeSignal()
    private let ambient: Ambient
    private let metrics: EngineMetrics
    private let logger: Logger
    private let publish: @Sendable ([EventDraft]) async throws -> Void
    /// This node's memberships, joined again when the node was reaped while alive.
    private let localMemberships: @Sendable () -> [(ChannelName, PresenceMember)]

    init(
        store: any SharedPresenceStore,
        ttl: Duration,
        ambient: Ambient,
        metrics: EngineMetrics,
        logger: Logger,
        publish: @escaping @Sendable ([EventDraft]) async throws -> Void,
        localMemberships: @escaping @Sendable () -> [(ChannelName, PresenceMember)]
    ) {
        self.store = store
        self.ttl = ttl
        self.ambient = ambient
        self.metrics = metrics
        self.logger = logger
        self.publish = publish
        self.localMemberships = localMemberships
    }

    /// Queues `operation`; it reaches the store after those queued before it. Only queues (it is
    /// called under the hub's lock): a drop is counted here and logged by the run loop.
    func enqueue(_ operation: Operation) {
        let accepted = pending.withLockedValue { pending -> Bool in
            guard pending.count < Self.capacity else { return false }
            pending.append(operation)
            return true
        }
        if accepted {
            bell.ring()
        } else {
            metrics.presenceRecordsDropped.increment()
            unreportedDrops.withLockedValue { $0 += 1 }
            bell.ring()
        }
    }

    /// Logs the operations dropped since the last call, if any.
    private func reportDrops() {
        let dropped = unreportedDrops.withLockedValue { count in
            defer { count = 0 }
            return count
        }
        guard dropped > 0 else { return }
        logger.warning(
            "the presence queue is full: joins or leaves were dropped",
            metadata: ["sb.dropped": "\(dropped)"]
        )
    }

    func run() async {
        await cancelWhenGracefulShutdown {
            var nextBeat = self.ambient.monotonicClock()
            while !Task.isCancelled {
                if self.ambient.monotonicClock() >= nextBeat {
                    await self.beat()
                    nextBeat = self.ambient.monotonicClock() + self.ttl / 3
                }
                self.reportDrops()
                await self.carryOutPending()
                await self.bell.wait(upTo: min(self.ttl / 3, nextBeat - self.ambient.monotonicClock()))
            }
        }
        // Shutting down: what is queued, then this node's remaining connections, then the journal.
        await carryOutPending(retrying: false)
        do {
            try await store.retire()
        } catch {
            logger.warning(
                "removing this node's presence failed",
                metadata: ["sb.error": "\(StoreError.logText(error))"]
            )
        }
        await publishJournal()
    }

    /// Heartbeat, reap and a journal pass; joins this node's connections again when it had been reaped.
    private func beat() async {
        var reaped = 0
        do {
            if try await !store.heartbeat(now: ambient.wallClock(), ttl: ttl) {
                let memberships = localMemberships()
                logger.warning(
                    "this node's presence had expired: joining its connections again",
                    metadata: ["sb.connections": "\(memberships.count)"]
                )
                pending.withLockedValue { pending in
                    pending.insert(contentsOf: memberships.map { Operation.join($0.0, $0.1) }, at: 0)
                }
            }
            reaped = try await store.reapExpiredNodes(now: ambient.wallClock())
            if reaped > 0 {
                logger.info("reaped the presence of expired nodes", metadata: ["sb.connections": "\(reaped)"])
            }
        } catch {
            logger.warning("the presence heartbeat failed", metadata: ["sb.error": "\(StoreError.logText(error))"])
        }
        await publishJournal()
        if reaped > 0 { ambient.report(.presenceRecorded) }
    }

    /// Carries out the queued operations in order; while the store fails, waits and tries the same one
    /// again (unless `retrying` is false, at shutdown: then what is left is dropped and counted).
    private func carryOutPending(retrying: Bool = true) async {
        var didWork = false
        var failures = 0
        var random = ambient.randomNumberGenerator
        while let operation = pending.withLockedValue({ $0.first }) {
            do {
                switch operation {
                case .join(let channel, let member):
                    try await store.join(
                        channel: channel,
                        client: member.client,
                        user: member.user,
                        member: member.json
                    )
                case .leave(let channel, let client):
                    try await store.leave(channel: channel, client: client)
                }
                pending.withLockedValue { _ = $0.removeFirst() }
                didWork = true
                failures = 0
            } catch {
                logger.warning("recording presence failed", metadata: ["sb.error": "\(StoreError.logText(error))"])
                guard retrying, !Task.isCancelled else {
                    let dropped = pending.withLockedValue { pending in
                        defer { pending.removeAll() }
                        return pending.count
                    }
                    metrics.presenceRecordsDropped.increment(by: Int64(dropped))
                    return
                }
                try? await Task.sleep(for: Self.retry.delay(attempt: failures, using: &random))
                failures += 1
                if Task.isCancelled { return }
            }
        }
        if didWork {
            await publishJournal()
            ambient.report(.presenceRecorded)
        }
    }

    private func publishJournal() async {
        do {
            let (store, publish) = (store, publish)
            try await StoreDeadline.run("publishing presence") { try await store.publishJournal(publish) }
        } catch {
            // The entries stay journaled: the next pass, on this node or another, publishes them.
            logger.warning("publishing presence failed", metadata: ["sb.error": "\(StoreError.logText(error))"])
        }
    }
}

public import Logging
import NIOConcurrencyHelpers
import Prometheus
public import ServiceLifecycle
public import SwitchboardCore
public import SwitchboardStore

/// Delivers webhooks: claims due deliveries under a lease, signs and POSTs them within the global and
/// per-endpoint limits, records every attempt, schedules retries, and reports exhausted deliveries
/// and disabled endpoints on `$system`. Woken when events commit or endpoints change; otherwise it
/// sleeps until the next delivery is due.
public final class DeliveryWorker: Service, Sendable {
    private struct State {
        var capacity: DeliveryCapacity
        var endpoints: [String: Endpoint] = [:]
        /// Some endpoint is enabled (kept with `endpoints`), so commits may have made deliveries.
        var hasEnabledEndpoints = false
        var needsReload = true
        var isStopping = false
    }

    private let queue: any DeliveryQueue
    private let adminStore: any AdminStore
    private let settings: WebhookSettings
    private let metrics: EngineMetrics
    private let sender: WebhookSender
    private let targets: WebhookTargets
    /// The clocks (wall time for due times and records, monotonic time for rate limits) and the
    /// randomness for the retry jitter.
    private let ambient: Ambient
    private var now: @Sendable () -> Timestamp { ambient.wallClock }
    private let publish: @Sendable ([EventDraft]) async -> Void
    private let logger: Logger
    private let state: NIOLockedValueBox<State>
    /// Rung by commits, endpoint changes, finished attempts and shutdown.
    private let bell = WakeSignal()
    /// Other nodes share the store: endpoints may be created or changed there, so the worker claims
    /// on every round (the claim finds an unknown or changed endpoint and reloads) instead of waiting
    /// for an endpoint it knows of.
    private let storeIsShared: Bool
    /// Free slots that make a claim worth its queries.
    private var lowWater: Int { max(1, min(32, settings.concurrency / 4)) }

    /// Makes a worker; `publish` appends the worker's own `$system` events.
    public init(
        queue: any DeliveryQueue,
        adminStore: any AdminStore,
        settings: WebhookSettings,
        metrics: EngineMetrics,
        userAgent: String,
        ambient: Ambient,
        relays: WebhookRelays,
        publish: @escaping @Sendable ([EventDraft]) async -> Void,
        storeIsShared: Bool = false,
        logger: Logger
    ) {
        self.storeIsShared = storeIsShared
        self.queue = queue
        self.adminStore = adminStore
        self.settings = settings
        self.metrics = metrics
        self.targets = WebhookTargets(
            allowsPrivate: settings.allowsPrivateTargets,
            timeout: settings.timeout,
            connectionsPerHost: settings.concurrency
        )
        self.sender = WebhookSender(
            targets: targets,
            relays: relays,
            timeout: settings.timeout,
            userAgent: userAgent,
            pusherApps: settings.pusherApps
        )
        self.ambient = ambient
        self.publish = publish
        self.logger = logger
        self.state = NIOLockedValueBox(
            State(
                capacity: DeliveryCapacity(
                    concurrency: settings.concurrency,
                    perEndpointConcurrency: settings.perEndpointConcurrency
                )
            )
        )
    }

    /// Something may be due: events committed, or a delivery was retried or replayed.
    public func wake() {
        bell.ring()
    }

    /// Events committed: they may have made deliveries, unless no endpoint is enabled. This runs on
    /// every commit, so without endpoints it costs one lock and no query.
    public func eventsCommitted() {
        guard storeIsShared || state.withLockedValue({ $0.hasEnabledEndpoints || $0.needsReload }) else { return }
        wake()
    }

    /// Endpoints were created, changed or removed: reload them before the next claim.
    public func endpointsChanged() {
        state.withLockedValue { $0.needsReload = true }
        wake()
    }

    /// Delivers until shutdown; attempts in flight then get `settings.shutdownGrace` to finish and be
    /// recorded.
    public func run() async throws {
        do {
            let queue = queue
            try await bounded("releasing delivery leases") { try await queue.releaseLeases() }
        } catch {
            logger.warning("could not release delivery leases", metadata: ["sb.error": "\(StoreError.logText(error))"])
        }
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                var lastDepthUpdate = ambient.monotonicClock() - .seconds(10)
                while !state.withLockedValue({ $0.isStopping }) {
                    await reloadEndpointsIfNeeded()
                    let clock = ambient.monotonicClock()
                    if clock - lastDepthUpdate >= .seconds(1), let depth = try? await queue.liveCount() {
                        metrics.webhookQueueDepth.record(Int64(depth))
                        lastDepthUpdate = clock
                    }
                    let started = await claimAndStart(in: &group)
                    if started.claimedAny && started.free > 0 { continue }
                    await waitForBell(upTo: await nextWait(rateWait: started.rateWait))
                }
                // Stopping: attempts in flight get a short grace to finish and be recorded; the rest are
                // cancelled, their leases run out, and they are attempted again after the restart (at
                // least once, never lost), so a slow target cannot hold the shutdown for its timeout.
                await waitForAttempts(upTo: settings.shutdownGrace)
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.state.withLockedValue { $0.isStopping = true }
            self.wake()
        }
        await targets.shutdown()
    }

    private func claimAndStart(in group: inout DiscardingTaskGroup) async -> (
        claimedAny: Bool, free: Int, rateWait: Duration?
    ) {
        let clock = ambient.monotonicClock()
        let (free, blocked, hasEndpoints) = state.withLockedValue { state in
            (
                state.capacity.free, state.capacity.blocked(state.endpoints, at: clock),
                state.hasEnabledEndpoints || storeIsShared
            )
        }
        guard free > 0, hasEndpoints else { return (false, free, blocked.nextToken) }
        // While most slots are busy, wait for more to free up: one claim then fills many, instead of a
        // claim (a read and a write) per finished attempt.
        guard free >= lowWater || free == settings.concurrency else { return (false, 0, blocked.nextToken) }
        let admitted = NIOLockedValueBox<[String: Endpoint]>([:])
        let claimed: [ClaimedDelivery]
        do {
            let (queue, now, lease, skipping) = (queue, now(), settings.lease, blocked.ids)
            claimed = try await bounded("claiming deliveries") {
                try await queue.claim(now: now, limit: free, lease: lease, skipping: skipping) { candidate in
                    self.state.withLockedValue { state in
                        guard let endpoint = state.endpoints[candidate.endpointID] else {
                            state.needsReload = true
                            return false
                        }
                        // Changed since loaded (a rotation, a new URL): reload first, claim it next round.
                        guard endpoint.updated == candidate.endpointUpdated else {
                            state.needsReload = true
                            return false
                        }
                        guard state.capacity.start(endpoint, at: clock) else { return false }
                        admitted.withLockedValue { $0[candidate.id] = endpoint }
                        return true
                    }
                }
            }
        } catch {
            logger.warning("claiming deliveries failed", metadata: ["sb.error": "\(StoreError.logText(error))"])
            claimed = []
        }
        var endpointsByDelivery = admitted.withLockedValue { $0 }
        for delivery in claimed {
            guard let endpoint = endpointsByDelivery.removeValue(forKey: delivery.id) else { continue }
            group.addTask {
                // The slot frees as soon as the answer is in; the delivery stays leased until its
                // record commits, and the commit wakes the worker again (an ordered endpoint's next
                // event becomes claimable only then).
                await self.attempt(delivery, to: endpoint) {
                    self.state.withLockedValue { $0.capacity.finish(endpoint.id) }
                    self.wake()
                }
                self.wake()
            }
        }
        // Admitted but not leased (another worker took it): give the slots back.
        if !endpointsByDelivery.isEmpty {
            state.withLockedValue { state in
                for endpoint in endpointsByDelivery.values { state.capacity.finish(endpoint.id) }
            }
        }
        let remaining = state.withLockedValue { $0.capacity.free }
        return (!claimed.isEmpty, remaining, blocked.nextToken)
    }

    /// Runs a store call; on a shared store under a deadline (`StoreDeadline`), so that a call the
    /// database server left unanswered cannot hold the worker, and a graceful shutdown with it.
    private func bounded<T: Sendable>(_ what: String, _ call: @escaping @Sendable () async throws -> T) async throws
        -> T
    {
        guard storeIsShared else { return try await call() }
        return try await StoreDeadline.run(what, call)
    }

    private func nextWait(rateWait: Duration?) async -> Duration {
        var wait = settings.pollInterval
        // With no enabled endpoint nothing is claimable: wait for a change, not for a due time.
        guard storeIsShared || state.withLockedValue({ $0.hasEnabledEndpoints }) else { return wait }
        if let rateWait { wait = min(wait, max(rateWait, .milliseconds(1))) }
        let (queue, at) = (queue, now())
        if let due = try? await bounded("reading the next due delivery", { try await queue.nextDue(now: at) }) {
            let until = Duration.milliseconds(due.millisecondsSinceEpoch - now().millisecondsSinceEpoch)
            wait = min(wait, max(until, .zero))
        }
        return wait
    }

    /// Returns when no attempt is in flight (every slot is free), or after `grace`.
    private func waitForAttempts(upTo grace: Duration) async {
        let deadline = ambient.monotonicClock() + grace
        while state.withLockedValue({ $0.capacity.free }) < settings.concurrency {
            let remaining = deadline - ambient.monotonicClock()
            guard remaining > .zero else { return }
            await bell.wait(upTo: remaining)
        }
    }

    private func waitForBell(upTo duration: Duration) async {
        guard !state.withLockedValue({ $0.isStopping }) else { return }
        await bell.wait(upTo: duration)
    }

    private func reloadEndpointsIfNeeded() async {
        guard state.withLockedValue({ $0.needsReload }) else { return }
        do {
            let adminStore = adminStore
            let endpoints = try await bounded("loading endpoints") { try await adminStore.listEndpoints() }
            state.withLockedValue { state in
                state.endpoints = Dictionary(endpoints.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
                state.hasEnabledEndpoints = endpoints.contains { $0.isEnabled }
                state.needsReload = false
            }
        } catch {
            logger.warning("loading webhook endpoints failed", metadata: ["sb.error": "\(StoreError.logText(error))"])
        }
    }

    /// One attempt of one delivery, recorded, with its consequences.
    private func attempt(_ delivery: ClaimedDelivery, to endpoint: Endpoint, answered: () -> Void) async {
        let time = now()
        var generator = ambient.randomNumberGenerator
        let number = delivery.attemptsMade + 1
        let record: AttemptRecord
        var retryAfter: Duration?
        var hadNothingToSend = false
        if let event = delivery.event {
            let response = await sender.send(event: event, delivery: delivery.id, to: endpoint, at: time)
            // Cancelled by a shutdown past its grace: not an attempt the target answered. Nothing is
            // recorded; the lease is released at the next start and the delivery is attempted again.
            if Task.isCancelled { return answered() }
            record = AttemptRecord(
                number: number,
                time: time,
                status: response.status,
                latencyMilliseconds: response.latency.wholeMilliseconds,
                error: response.error,
                responseHeaders: response.headers,
                responseBody: response.body
            )
            retryAfter = response.retryAfter
            hadNothingToSend = response.hadNothingToSend
        } else {
            record = AttemptRecord(
                number: number,
                time: time,
                status: nil,
                latencyMilliseconds: 0,
                error: "the event is no longer retained in the log",
                responseHeaders: [],
                responseBody: nil
            )
        }
        answered()
        let decision =
            hadNothingToSend
            ? .nothingToSend
            : DeliveryDecision.after(
                attemptAt: time,
                httpStatus: record.status,
                retryAfter: retryAfter,
                isEventRetained: delivery.event != nil,
                attemptsInRound: delivery.attemptsInRound,
                schedule: settings.schedule,
                using: &generator
            )
        if hadNothingToSend {
            // No request: neither a success nor a failure of the target.
        } else if decision.status == .succeeded {
            metrics.webhookAttemptsSucceeded.increment()
            if let event = delivery.event {
                metrics.webhookDeliveryLatency.record(
                    .milliseconds(max(0, now().millisecondsSinceEpoch - event.time.millisecondsSinceEpoch))
                )
            }
        } else if record.status == nil {
            metrics.webhookAttemptsFailedNetwork.increment()
        } else {
            metrics.webhookAttemptsFailedStatus.increment()
        }
        let result = AttemptResult(
            delivery: delivery,
            attempt: record,
            status: decision.status,
            nextAttempt: decision.nextAttempt,
            disablesEndpoint: decision.disablesEndpoint
        )
        let disabled: [DisabledEndpoint]
        do {
            let (queue, at, after) = (queue, now(), settings.disableFailingAfter)
            disabled = try await bounded("recording an attempt") {
                try await queue.record([result], now: at, disableFailingAfter: after)
            }
        } catch {
            // An endpoint removed while its attempt was out takes its deliveries with it: nothing is left
            // to record, and nothing is wrong.
            var isRemoved = false
            do { isRemoved = try await adminStore.endpoint(id: endpoint.id) == nil } catch {}
            if isRemoved {
                logger.debug(
                    "attempt not recorded: its endpoint was removed",
                    metadata: ["sb.delivery": "\(delivery.id)"]
                )
                return
            }
            // The lease runs out and the delivery is attempted again: at least once, never lost.
            logger.error(
                "recording a webhook attempt failed",
                metadata: ["sb.delivery": "\(delivery.id)", "sb.error": "\(StoreError.logText(error))"]
            )
            return
        }
        ambient.report(.webhookAttemptRecorded)
        if result.status == .dead {
            metrics.webhookDeliveriesDead.increment()
            await reportExhausted(delivery, endpoint: endpoint, last: record)
        }
        if !disabled.isEmpty {
            endpointsChanged()
            for endpoint in disabled {
                metrics.webhookEndpointsDisabled.increment()
                logger.warning(
                    "webhook endpoint disabled",
                    metadata: ["sb.endpoint": "\(endpoint.id)", "sb.reason": "\(endpoint.reason)"]
                )
                await publishSystemEvent(
                    type: "endpoint.disabled",
                    data: .object([
                        ("endpoint", .string(endpoint.id)), ("url", .string(endpoint.url)),
                        ("reason", .string(endpoint.reason)),
                    ])
                )
            }
        }
    }

    private func reportExhausted(_ delivery: ClaimedDelivery, endpoint: Endpoint, last: AttemptRecord) async {
        // Exhausted deliveries of `$system` events are not reported again, so that an endpoint that
        // subscribes to `$system` and fails cannot feed itself forever.
        guard let event = delivery.event, !event.channel.isServerWritten else { return }
        await publishSystemEvent(
            type: "delivery.exhausted",
            data: .object([
                ("delivery", .string(delivery.id)), ("endpoint", .string(endpoint.id)),
                ("event", .string(event.id.rawValue)),
                ("channel", .string(event.channel.rawValue)), ("offset", .int(event.offset)),
                ("type", .string(event.type.rawValue)), ("attempts", .int(Int64(last.number))),
                ("lastStatus", last.status.map { .int(Int64($0)) } ?? .null),
                ("lastError", last.error.map { .string($0) } ?? .null),
            ])
        )
    }

    private func publishSystemEvent(type: String, data: JSONValue) async {
        guard let channel = try? ChannelName("$system"), let type = try? EventType(type) else { return }
        await publish([EventDraft(channel: channel, type: type, data: data.jsonText, idempotencyKey: nil)])
        ambient.report(.systemEventPublished)
    }
}

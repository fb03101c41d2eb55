public import Prometheus

/// The server's metrics, kept in one registry per running server (no process-global state), and
/// rendered at `/metrics` in Prometheus text format.
public final class EngineMetrics: Sendable {
    /// The registry the metrics live in.
    public let registry: PrometheusCollectorRegistry
    /// Open real-time connections, by transport.
    public let webSocketConnections: Gauge
    /// Open SSE streams.
    public let serverSentEventStreams: Gauge
    /// Long-poll requests waiting for an event.
    public let longPollsWaiting: Gauge
    /// Live channel subscriptions over all transports.
    public let subscriptions: Gauge
    /// Events committed to the log.
    public let eventsPublished: Counter
    /// Publishes answered from the idempotency record.
    public let publishesReplayed: Counter
    /// Events written to WebSocket subscribers.
    public let deliveredWebSocket: Counter
    /// Events written to SSE subscribers.
    public let deliveredServerSentEvents: Counter
    /// Events returned by long-poll and history reads.
    public let deliveredLongPoll: Counter
    /// Connections closed as slow consumers.
    public let slowConsumersClosed: Counter
    /// Time from a publish call to its durable commit.
    public let publishLatency: DurationHistogram
    /// Webhook attempts that got a 2xx.
    public let webhookAttemptsSucceeded: Counter
    /// Webhook attempts answered with another status.
    public let webhookAttemptsFailedStatus: Counter
    /// Webhook attempts that got no response (connection, timeout, refused target).
    public let webhookAttemptsFailedNetwork: Counter
    /// Time from an event's commit to its successful delivery.
    public let webhookDeliveryLatency: DurationHistogram
    /// Deliveries still to be made (pending or failed).
    public let webhookQueueDepth: Gauge
    /// Deliveries that ran out of attempts.
    public let webhookDeliveriesDead: Counter
    /// Endpoints disabled by the server (410 Gone, failing for days).
    public let webhookEndpointsDisabled: Counter

    /// Presence joins and leaves that could not be journaled.
    public let presenceRecordsDropped: Counter
    /// Channel occupancy changes that could not be journaled.
    public let occupancyRecordsDropped: Counter
    /// Requests and connections refused by a limit, by limit.
    public let refusedByLimit: [String: Counter]

    /// Inbound webhook requests, by outcome (`published`, `duplicate`, `challenge` for Slack's URL
    /// verification, `rejected` for a bad signature, `refused` for anything else).
    public let inboundRequestsByOutcome: [String: Counter]

    /// Counts one inbound webhook request by `outcome`.
    public func inboundRequests(outcome: String) {
        inboundRequestsByOutcome[outcome]?.increment()
    }

    /// The limits whose refusals are counted.
    public static let limitNames = [
        "key_publish_rate", "connection_publish_rate", "connection_command_rate", "subscriptions",
        "connections_per_user", "connections_per_address", "origin",
    ]

    /// Counts one refusal by limit `name` (one of `limitNames`).
    public func refused(by name: String) {
        refusedByLimit[name]?.increment()
    }

    /// Makes the metrics in a fresh registry.
    public init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        func connections(_ transport: String) -> Gauge {
            registry.makeGauge(
                name: "switchboard_connections",
                labels: [("transport", transport)],
                help: "Open real-time connections"
            )
        }
        func delivered(_ transport: String) -> Counter {
            registry.makeCounter(
                name: "switchboard_events_delivered_total",
                labels: [("transport", transport)],
                help: "Events delivered to subscribers"
            )
        }
        webSocketConnections = connections("websocket")
        serverSentEventStreams = connections("sse")
        longPollsWaiting = registry.makeGauge(
            name: "switchboard_long_polls_waiting",
            help: "Long-poll requests waiting for an event"
        )
        subscriptions = registry.makeGauge(name: "switchboard_subscriptions", help: "Live channel subscriptions")
        eventsPublished = registry.makeCounter(name: "switchboard_events_published_total", help: "Events committed")
        publishesReplayed = registry.makeCounter(
            name: "switchboard_publishes_replayed_total",
            help: "Publishes answered from an idempotency key"
        )
        deliveredWebSocket = delivered("websocket")
        deliveredServerSentEvents = delivered("sse")
        deliveredLongPoll = delivered("longpoll")
        slowConsumersClosed = registry.makeCounter(
            name: "switchboard_slow_consumers_closed_total",
            help: "Connections closed because they fell behind"
        )
        publishLatency = registry.makeDurationHistogram(
            name: "switchboard_publish_duration_seconds",
            buckets: [
                .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                .seconds(1),
            ],
            help: "Time from publish to durable commit"
        )
        func attempts(_ outcome: String) -> Counter {
            registry.makeCounter(
                name: "switchboard_webhook_attempts_total",
                labels: [("outcome", outcome)],
                help: "Webhook delivery attempts by outcome"
            )
        }
        webhookAttemptsSucceeded = attempts("success")
        webhookAttemptsFailedStatus = attempts("http_error")
        webhookAttemptsFailedNetwork = attempts("network_error")
        webhookDeliveryLatency = registry.makeDurationHistogram(
            name: "switchboard_webhook_delivery_latency_seconds",
            buckets: [
                .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5), .seconds(30), .seconds(300),
                .seconds(3600),
            ],
            help: "Time from an event's commit to its successful webhook delivery"
        )
        presenceRecordsDropped = registry.makeCounter(
            name: "switchboard_presence_records_dropped_total",
            help: "Presence joins and leaves that could not be journaled on $presence channels"
        )
        occupancyRecordsDropped = registry.makeCounter(
            name: "switchboard_occupancy_records_dropped_total",
            help:
                "Channels gaining their first or losing their last subscriber that could not be journaled on $occupancy channels"
        )
        var inbound: [String: Counter] = [:]
        for outcome in InboundRequestRecord.Outcome.metricLabels {
            inbound[outcome] = registry.makeCounter(
                name: "switchboard_inbound_requests_total",
                labels: [("outcome", outcome)],
                help: "Inbound webhook requests by outcome"
            )
        }
        self.inboundRequestsByOutcome = inbound
        var refused: [String: Counter] = [:]
        for name in Self.limitNames {
            refused[name] = registry.makeCounter(
                name: "switchboard_refused_total",
                labels: [("limit", name)],
                help: "Requests and connections refused by a limit"
            )
        }
        refusedByLimit = refused
        webhookQueueDepth = registry.makeGauge(
            name: "switchboard_webhook_queue_depth",
            help: "Webhook deliveries still to be made"
        )
        webhookDeliveriesDead = registry.makeCounter(
            name: "switchboard_webhook_deliveries_dead_total",
            help: "Webhook deliveries whose last attempt failed"
        )
        webhookEndpointsDisabled = registry.makeCounter(
            name: "switchboard_webhook_endpoints_disabled_total",
            help: "Webhook endpoints disabled by the server"
        )
    }

    /// The Prometheus text exposition.
    public func render() -> [UInt8] {
        var out: [UInt8] = []
        registry.emit(into: &out)
        return out
    }
}

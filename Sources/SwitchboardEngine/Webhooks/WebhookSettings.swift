public import SwitchboardCore

/// How webhooks are delivered: the retry schedule, timeouts, concurrency and target safety.
public struct WebhookSettings: Sendable, Equatable {
    /// When failed deliveries are tried again.
    public var schedule: RetrySchedule
    /// How long an attempt may take, from connecting to the response head.
    public var timeout: Duration
    /// Attempts in flight at once, over all endpoints.
    public var concurrency: Int
    /// Attempts in flight at once to one endpoint (ordered endpoints: always 1).
    public var perEndpointConcurrency: Int
    /// Targets on loopback, private, link-local and metadata addresses are allowed.
    public var allowsPrivateTargets: Bool
    /// An endpoint whose every attempt failed for this long is disabled.
    public var disableFailingAfter: Duration
    /// How long a rotated-out secret keeps signing.
    public var rotationOverlap: Duration
    /// How long finished deliveries (and their attempts) are kept for inspection and replay.
    public var history: Duration
    /// Longest wait between checks for due deliveries when nothing wakes the worker.
    public var pollInterval: Duration
    /// How long a graceful shutdown waits for attempts in flight before it cancels them (they are
    /// attempted again after the restart).
    public var shutdownGrace: Duration
    /// The configured Pusher apps by id: what signs the webhooks of endpoints with Pusher signing.
    public var pusherApps: [String: PusherAppKey]

    /// Makes settings; the defaults are PROTOCOL.md's.
    public init(
        schedule: RetrySchedule = .standard,
        timeout: Duration = .seconds(15),
        concurrency: Int = 128,
        perEndpointConcurrency: Int = 16,
        allowsPrivateTargets: Bool = false,
        disableFailingAfter: Duration = .seconds(5 * 86_400),
        rotationOverlap: Duration = .seconds(86_400),
        history: Duration = .seconds(30 * 86_400),
        pollInterval: Duration = .seconds(1),
        shutdownGrace: Duration = .seconds(5),
        pusherApps: [String: PusherAppKey] = [:]
    ) {
        self.schedule = schedule
        self.timeout = timeout
        self.concurrency = concurrency
        self.perEndpointConcurrency = perEndpointConcurrency
        self.allowsPrivateTargets = allowsPrivateTargets
        self.disableFailingAfter = disableFailingAfter
        self.rotationOverlap = rotationOverlap
        self.history = history
        self.pollInterval = pollInterval
        self.shutdownGrace = shutdownGrace
        self.pusherApps = pusherApps
    }

    /// A lease outlives the attempt it covers.
    var lease: Duration { timeout * 2 + .seconds(30) }
}

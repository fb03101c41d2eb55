public import SwitchboardCore

/// The webhook deliveries waiting, in flight and done: the outbox rows the event log writes with each
/// event, claimed under a lease by the delivery worker, with every attempt recorded.
///
/// Contract every implementation keeps:
/// - A delivery is claimed by at most one worker at a time: `claim` leases it until `now + lease` (or
///   until its attempt is recorded); a lease that runs out (the worker died) makes it claimable again.
/// - For an `ordered` endpoint only a channel's lowest live offset is claimable, so a channel's events
///   go out in offset order; a failing one holds the rest back until it succeeds or is dead.
/// - `record` stores attempts and the deliveries' new states, and the endpoints' health, all at once.
public protocol DeliveryQueue: Sendable {
    /// Gives back every lease (at start, when this process is the only worker).
    func releaseLeases() async throws

    /// Leases due deliveries of enabled endpoints not in `skipping`, oldest due first: up to `limit`
    /// candidates are offered to `admit`, in order, and those it admits are leased and returned.
    func claim(
        now: Timestamp,
        limit: Int,
        lease: Duration,
        skipping: Set<String>,
        admit: (ClaimedDelivery) -> Bool
    ) async throws -> [ClaimedDelivery]

    /// Records finished attempts; endpoints that fail with `410 Gone` or have failed for longer than
    /// `disableFailingAfter` are disabled, and returned.
    func record(_ results: [AttemptResult], now: Timestamp, disableFailingAfter: Duration) async throws
        -> [DisabledEndpoint]

    /// When the next live delivery not in flight is due (nil: none is waiting).
    func nextDue(now: Timestamp) async throws -> Timestamp?

    /// Deliveries still to be made (pending or failed).
    func liveCount() async throws -> Int

    /// One delivery with its attempts.
    func delivery(id: String) async throws -> DeliveryRecord?

    /// An endpoint's deliveries, newest first, optionally of one status, before the delivery `before`.
    func deliveries(endpoint: String, status: DeliveryStatus?, before: String?, limit: Int) async throws
        -> [DeliveryRecord]

    /// Makes a delivery due now for one more attempt; nil when there is no such delivery.
    func retryNow(id: String, now: Timestamp) async throws -> DeliveryRecord?

    /// The deliveries of one event to every endpoint, oldest first (at most `limit`).
    func deliveries(event: String, limit: Int) async throws -> [DeliveryRecord]

    /// Enqueues again, with a fresh retry schedule, an endpoint's deliveries that `selection` chooses.
    /// Returns how many.
    func replay(endpoint: String, selection: ReplaySelection, now: Timestamp) async throws -> Int

    /// How many of an endpoint's deliveries `replay` would enqueue again, without changing any.
    func countReplayable(endpoint: String, selection: ReplaySelection) async throws -> Int

    /// Removes up to `limit` finished (succeeded or dead) deliveries, with their attempts, last changed
    /// before `before`; returns how many.
    func trimFinished(before: Timestamp, limit: Int) async throws -> Int

    /// Makes every waiting delivery of `endpoint` due now (its listener just connected).
    func expedite(endpoint: String, now: Timestamp) async throws

    /// Enqueues a delivery of `event` (not stored in the log) to one endpoint; returns its id.
    func enqueueDirect(endpoint: String, event: Event, now: Timestamp) async throws -> String
}

/// A leased delivery, with what the worker needs to make the attempt.
public struct ClaimedDelivery: Hashable, Sendable {
    /// `dlv_…`.
    public let id: String
    /// `ep_…`.
    public let endpointID: String
    /// When the endpoint last changed (for caches).
    public let endpointUpdated: Timestamp
    /// The event, or nil when retention removed it before it could be delivered.
    public let event: Event?
    /// The event's id (also when `event` is nil).
    public let eventID: String
    /// Attempts made so far, in all.
    public let attemptsMade: Int
    /// Attempts made since the last replay: the position in the retry schedule.
    public let attemptsInRound: Int

    /// Makes a claimed delivery.
    public init(
        id: String,
        endpointID: String,
        endpointUpdated: Timestamp,
        event: Event?,
        eventID: String,
        attemptsMade: Int,
        attemptsInRound: Int
    ) {
        self.id = id
        self.endpointID = endpointID
        self.endpointUpdated = endpointUpdated
        self.event = event
        self.eventID = eventID
        self.attemptsMade = attemptsMade
        self.attemptsInRound = attemptsInRound
    }
}

/// One HTTP attempt as recorded.
public struct AttemptRecord: Hashable, Sendable {
    /// 1, 2, 3, … per delivery.
    public let number: Int
    /// When it started.
    public let time: Timestamp
    /// The HTTP status, or nil when no response arrived.
    public let status: Int?
    /// From start to the response head (or the error).
    public let latencyMilliseconds: Int64
    /// What went wrong, or nil.
    public let error: String?
    /// The response headers, in order.
    public let responseHeaders: [EndpointSettings.HeaderField]
    /// The first 4 KiB of the response body.
    public let responseBody: String?

    /// Makes a record.
    public init(
        number: Int,
        time: Timestamp,
        status: Int?,
        latencyMilliseconds: Int64,
        error: String?,
        responseHeaders: [EndpointSettings.HeaderField],
        responseBody: String?
    ) {
        self.number = number
        self.time = time
        self.status = status
        self.latencyMilliseconds = latencyMilliseconds
        self.error = error
        self.responseHeaders = responseHeaders
        self.responseBody = responseBody
    }

    /// Whether the attempt succeeded (a 2xx).
    public var succeeded: Bool { status.map { (200..<300).contains($0) } ?? false }
}

/// A finished attempt and what follows from it.
public struct AttemptResult: Hashable, Sendable {
    /// The delivery.
    public let delivery: ClaimedDelivery
    /// The attempt.
    public let attempt: AttemptRecord
    /// The delivery's status now: `succeeded`, `failed` (with `nextAttempt`) or `dead`.
    public let status: DeliveryStatus
    /// When to try again (for `failed`).
    public let nextAttempt: Timestamp?
    /// Set when the response disables the endpoint at once (`410 Gone`).
    public let disablesEndpoint: String?

    /// Makes a result.
    public init(
        delivery: ClaimedDelivery,
        attempt: AttemptRecord,
        status: DeliveryStatus,
        nextAttempt: Timestamp?,
        disablesEndpoint: String? = nil
    ) {
        self.delivery = delivery
        self.attempt = attempt
        self.status = status
        self.nextAttempt = nextAttempt
        self.disablesEndpoint = disablesEndpoint
    }

    /// Whether the attempt counts against the endpoint's health: it was made and did not succeed. A
    /// delivery done without a request (nothing in the endpoint's format to send) neither fails nor
    /// heals its endpoint.
    public var failedTheEndpoint: Bool { !attempt.succeeded && status != .succeeded }
}

/// An endpoint that `record` disabled, and why.
public struct DisabledEndpoint: Hashable, Sendable {
    /// `ep_…`.
    public let id: String
    /// Its URL.
    public let url: String
    /// Why.
    public let reason: String

    /// Makes one.
    public init(id: String, url: String, reason: String) {
        self.id = id
        self.url = url
        self.reason = reason
    }
}

/// A delivery as the API shows it.
public struct DeliveryRecord: Hashable, Sendable {
    /// `dlv_…`.
    public let id: String
    /// `ep_…`.
    public let endpointID: String
    /// `evt_…`.
    public let eventID: String
    /// The event's channel.
    public let channel: String
    /// The event's offset.
    public let offset: Int64
    /// The event's type.
    public let type: String
    /// Where it stands.
    public let status: DeliveryStatus
    /// When the next attempt is due (nil once succeeded or dead).
    public let nextAttempt: Timestamp?
    /// When it was enqueued.
    public let created: Timestamp
    /// Every attempt, oldest first.
    public let attempts: [AttemptRecord]

    /// Makes a record.
    public init(
        id: String,
        endpointID: String,
        eventID: String,
        channel: String,
        offset: Int64,
        type: String,
        status: DeliveryStatus,
        nextAttempt: Timestamp?,
        created: Timestamp,
        attempts: [AttemptRecord]
    ) {
        self.id = id
        self.endpointID = endpointID
        self.eventID = eventID
        self.channel = channel
        self.offset = offset
        self.type = type
        self.status = status
        self.nextAttempt = nextAttempt
        self.created = created
        self.attempts = attempts
    }
}

/// Which of an endpoint's deliveries a replay sends again.
public struct ReplaySelection: Hashable, Sendable {
    /// The deliveries' range: by when they were created, or by their events' offsets in one channel.
    public enum Range: Hashable, Sendable {
        /// Created at or after this time.
        case since(Timestamp)
        /// Of events of `channel` from offset `from` through `through` (inclusive; nil: no upper end).
        case offsets(channel: ChannelName, from: Int64, through: Int64?)
    }

    /// The range.
    public var range: Range
    /// Only failed and dead deliveries (true), or every one in the range.
    public var onlyFailed: Bool

    /// Makes a selection.
    public init(range: Range, onlyFailed: Bool) {
        self.range = range
        self.onlyFailed = onlyFailed
    }
}

/// What one attempt of a webhook delivery leads to: the delivery's lifecycle (pending → succeeded, or
/// failed → retried → dead) as a pure decision, so that every branch is tested without a network.
///
/// - A 2xx succeeds.
/// - Anything else fails; the next attempt follows the retry schedule (with jitter), or a longer
///   `Retry-After` the endpoint asked for; with no attempt left the delivery is dead.
/// - An event no longer retained in the log cannot be sent again: dead at once.
/// - `410 Gone` disables the endpoint, whatever follows for the delivery.
public struct DeliveryDecision: Hashable, Sendable {
    /// Where the delivery stands after the attempt.
    public var status: DeliveryStatus
    /// When it is tried again (`failed` only).
    public var nextAttempt: Timestamp?
    /// Why the endpoint is disabled by this attempt, if it is.
    public var disablesEndpoint: String?

    /// An attempt that had nothing to send (an event the endpoint's format has no place for, such as
    /// a plain event on a Pusher endpoint): the delivery is done without a request.
    public static let nothingToSend = DeliveryDecision(status: .succeeded, nextAttempt: nil, disablesEndpoint: nil)

    /// Decides after an attempt made at `time` answered with `httpStatus` (nil: no response) and
    /// `retryAfter`, when `attemptsInRound` attempts of this round came before it.
    public static func after(
        attemptAt time: Timestamp,
        httpStatus: Int?,
        retryAfter: Duration?,
        isEventRetained: Bool,
        attemptsInRound: Int,
        schedule: RetrySchedule,
        using generator: inout some RandomNumberGenerator
    ) -> DeliveryDecision {
        if let httpStatus, (200..<300).contains(httpStatus) {
            return DeliveryDecision(status: .succeeded, nextAttempt: nil, disablesEndpoint: nil)
        }
        let gone = httpStatus == 410 ? "the endpoint answered 410 Gone" : nil
        guard isEventRetained,
            var delay = schedule.delay(afterAttempts: attemptsInRound + 1, using: &generator)
        else {
            return DeliveryDecision(status: .dead, nextAttempt: nil, disablesEndpoint: gone)
        }
        if let retryAfter { delay = max(delay, retryAfter) }
        return DeliveryDecision(
            status: .failed,
            nextAttempt: Timestamp(millisecondsSinceEpoch: time.millisecondsSinceEpoch + delay.wholeMilliseconds),
            disablesEndpoint: gone
        )
    }
}

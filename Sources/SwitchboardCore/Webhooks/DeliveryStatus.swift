/// Where a delivery stands: `pending` (not yet tried), `succeeded`, `failed` (will be retried) or
/// `dead` (no attempt left; replayable).
public enum DeliveryStatus: String, Hashable, Sendable, CaseIterable {
    /// Waiting for its first attempt.
    case pending
    /// A 2xx arrived.
    case succeeded
    /// The last attempt failed; another is scheduled.
    case failed
    /// Every attempt failed.
    case dead

    /// Parses the API's text; `bad_request` otherwise.
    public init(parsing text: String) throws(SwitchboardError) {
        guard let status = DeliveryStatus(rawValue: text) else {
            throw SwitchboardError(.badRequest, "status is one of pending, succeeded, failed, dead")
        }
        self = status
    }
}

import SwitchboardCore

/// How long idempotency keys are remembered: publish keys for the publish window, inbound webhook
/// delivery keys (`whin_…`) for the longer inbound window, which outlasts the providers' retries.
struct IdempotencyWindows: Sendable {
    /// Publish keys, in milliseconds.
    let publishMilliseconds: Int64
    /// Inbound delivery keys, in milliseconds.
    let inboundMilliseconds: Int64

    init(_ configuration: StoreConfiguration) {
        self.publishMilliseconds = Int64(configuration.idempotencyWindowSeconds) * 1000
        self.inboundMilliseconds = Int64(configuration.inboundDeduplicationSeconds) * 1000
    }

    init(publishMilliseconds: Int64, inboundMilliseconds: Int64) {
        self.publishMilliseconds = publishMilliseconds
        self.inboundMilliseconds = inboundMilliseconds
    }

    /// True for an inbound delivery key `id`.
    static let isInboundSQL =
        "substr(id, 1, \(EventID.inboundPrefix.utf8.count)) = '\(EventID.inboundPrefix)'"

    /// The oldest `time_ms` still remembered for a key `id`, with `cutoffs(at:)` bound in their order:
    /// the inbound cutoff, then the publish one.
    static let cutoffSQL = "CASE WHEN \(isInboundSQL) THEN ? ELSE ? END"

    /// The oldest `time_ms` of an inbound key and of a publish key still remembered at `now`.
    func cutoffs(at now: Timestamp) -> (inbound: Int64, publish: Int64) {
        (now.millisecondsSinceEpoch - inboundMilliseconds, now.millisecondsSinceEpoch - publishMilliseconds)
    }
}

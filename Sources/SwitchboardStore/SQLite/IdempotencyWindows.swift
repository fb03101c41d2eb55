import SQLiteNIO
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

    /// The oldest `time_ms` still remembered for a key `id`, with `cutoffBinds(at:)` bound in this order.
    static let cutoffSQL = "CASE WHEN \(isInboundSQL) THEN ? ELSE ? END"

    /// The binds of `cutoffSQL` at `now`: the inbound cutoff, then the publish one.
    func cutoffBinds(at now: Timestamp) -> [SQLiteData] {
        [inboundCutoff(at: now), publishCutoff(at: now)]
    }

    /// The oldest `time_ms` of an inbound key still remembered at `now`.
    func inboundCutoff(at now: Timestamp) -> SQLiteData {
        .integer(Int(now.millisecondsSinceEpoch - inboundMilliseconds))
    }

    /// The oldest `time_ms` of a publish key still remembered at `now`.
    func publishCutoff(at now: Timestamp) -> SQLiteData {
        .integer(Int(now.millisecondsSinceEpoch - publishMilliseconds))
    }
}

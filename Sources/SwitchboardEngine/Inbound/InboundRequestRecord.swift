public import SwitchboardCore

/// One inbound request as the source's request log shows it: when, what became of it, and why.
public struct InboundRequestRecord: Sendable, Equatable {
    /// What became of the request.
    public enum Outcome: Sendable, Equatable {
        /// Verified and stored as a new event.
        case published(EventID, offset: Int64)
        /// Verified, but its delivery id was seen before: the earlier event is the answer.
        case duplicate(EventID, offset: Int64)
        /// A verified Slack `url_verification` request, answered with its challenge; no event.
        case challengeAnswered
        /// Refused with `status`, for `reason` (a missing or wrong signature, a body too large, …);
        /// `verified` when the signature had been checked and was good.
        case rejected(status: Int, reason: String, verified: Bool)

        /// Every `metricLabel`.
        public static let metricLabels = ["published", "duplicate", "challenge", "rejected", "refused"]

        /// The `outcome` label of `switchboard_inbound_requests_total`.
        public var metricLabel: String {
            switch self {
            case .published: "published"
            case .duplicate: "duplicate"
            case .challengeAnswered: "challenge"
            case .rejected(let status, _, _): status == 401 ? "rejected" : "refused"
            }
        }
    }

    /// When it arrived.
    public let time: Timestamp
    /// The provider's delivery id, when one was found.
    public let deliveryID: String?
    /// What became of it.
    public let outcome: Outcome

    /// Makes a record.
    public init(time: Timestamp, deliveryID: String?, outcome: Outcome) {
        self.time = time
        self.deliveryID = deliveryID
        self.outcome = outcome
    }

    /// `{"time","verified","status","eventId"?,"offset"?,"duplicate","deliveryId"?,"reason"?}`.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [("time", .string(time.description))]
        switch outcome {
        case .published(let id, let offset), .duplicate(let id, let offset):
            let isDuplicate = if case .duplicate = outcome { true } else { false }
            members += [
                ("verified", .bool(true)), ("status", .int(isDuplicate ? 200 : 202)),
                ("eventId", .string(id.rawValue)), ("offset", .int(offset)), ("duplicate", .bool(isDuplicate)),
            ]
        case .challengeAnswered:
            members += [("verified", .bool(true)), ("status", .int(200)), ("challenge", .bool(true))]
        case .rejected(let status, let reason, let verified):
            members += [
                ("verified", .bool(verified)), ("status", .int(Int64(status))), ("reason", .string(reason)),
            ]
        }
        members.append(("deliveryId", deliveryID.map { .string($0) } ?? .null))
        return .object(members)
    }
}

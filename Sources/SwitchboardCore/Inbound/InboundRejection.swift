/// Why an inbound request's signature was refused; the sentence is what the source's request log shows.
public enum InboundRejection: Error, Equatable, Sendable, CustomStringConvertible {
    /// A header the scheme needs is absent.
    case missingHeader(String)
    /// A header is present but not in the scheme's format.
    case malformed(String)
    /// The signed timestamp is further than the tolerance from now.
    case timestampOutOfTolerance
    /// No configured secret produces the presented signature.
    case noMatch

    /// A sentence for the request log and the 401's detail.
    public var description: String {
        switch self {
        case .missingHeader(let name): "the \(name) header is missing"
        case .malformed(let what): "malformed signature: \(what)"
        case .timestampOutOfTolerance: "the signed timestamp is outside the tolerance"
        case .noMatch: "no signature matches"
        }
    }
}

/// The claims of a client token (PROTOCOL.md "Client auth"), read after its signature was checked:
/// `sub`, `exp`, `nbf`, `channels`, `publish`, `info`, and optionally `iss` and `aud`.
public struct ClientTokenClaims: Sendable {
    /// What the server requires of every token beyond its signature.
    public struct Requirements: Hashable, Sendable {
        /// `iss` must equal this, when set.
        public var issuer: String?
        /// `aud` must be or contain this, when set.
        public var audience: String?

        /// Makes requirements.
        public init(issuer: String? = nil, audience: String? = nil) {
            self.issuer = issuer
            self.audience = audience
        }
    }

    /// The principal the token stands for.
    public let principal: Principal

    /// Validates `payload` (the token's decoded JSON claims) at `now`.
    public init(payload: JSONValue, now: Timestamp, requirements: Requirements = Requirements())
        throws(SwitchboardError)
    {
        guard case .object = payload else { throw Self.invalid("the claims are not a JSON object") }
        let nowSeconds = Double(now.millisecondsSinceEpoch) / 1000
        var expires: Timestamp?
        if let exp = payload["exp"] {
            let seconds = try Self.seconds(exp, claim: "exp")
            guard seconds > nowSeconds else { throw SwitchboardError(.unauthorized, "the token has expired") }
            expires = Timestamp(millisecondsSinceEpoch: Int64(seconds * 1000))
        }
        if let nbf = payload["nbf"] {
            let seconds = try Self.seconds(nbf, claim: "nbf")
            guard seconds <= nowSeconds else { throw SwitchboardError(.unauthorized, "the token is not valid yet") }
        }
        if let iat = payload["iat"] { _ = try Self.seconds(iat, claim: "iat") }
        if let issuer = requirements.issuer, payload["iss"]?.stringValue != issuer {
            throw SwitchboardError(.unauthorized, "the token's issuer (iss) is not the one configured")
        }
        if let audience = requirements.audience, !Self.audiences(payload["aud"]).contains(audience) {
            throw SwitchboardError(.unauthorized, "the token's audience (aud) does not include the one configured")
        }
        var user: String?
        switch payload["sub"] {
        case nil, .null: user = nil
        case .string(let sub): user = sub.isEmpty ? nil : sub
        default: throw Self.invalid("sub is not a string")
        }
        let info = payload["info"]
        self.principal = Principal(
            user: user,
            subscribePatterns: try Self.patterns(payload["channels"], claim: "channels"),
            publishPatterns: try Self.patterns(payload["publish"], claim: "publish"),
            info: info == .null ? nil : info,
            expires: expires
        )
    }

    /// The latest time a numeric date claim may name: 9999-12-31T23:59:59Z. Anything later (or before
    /// 1970) is refused as invalid rather than converted, since no real token names it and a conversion
    /// of such a number to milliseconds would overflow.
    public static let latestSeconds: Double = 253_402_300_799

    /// A NumericDate claim (RFC 7519 §2) as seconds since the epoch, within `0...latestSeconds`.
    private static func seconds(_ value: JSONValue, claim: String) throws(SwitchboardError) -> Double {
        let seconds: Double
        switch value {
        case .int(let i): seconds = Double(i)
        case .double(let d) where d.isFinite: seconds = d
        default: throw invalid("\(claim) is not a number of seconds")
        }
        guard seconds >= 0, seconds <= latestSeconds else {
            throw invalid("\(claim) is out of range (0 to \(Int64(latestSeconds)) seconds)")
        }
        return seconds
    }

    private static func audiences(_ value: JSONValue?) -> [String] {
        switch value {
        case .string(let one): [one]
        case .array(let many): many.compactMap(\.stringValue)
        default: []
        }
    }

    private static func patterns(_ value: JSONValue?, claim: String) throws(SwitchboardError) -> [NamePattern] {
        guard let value, value != .null else { return [] }
        guard let items = value.arrayValue else { throw invalid("\(claim) is not a list of channel patterns") }
        var patterns: [NamePattern] = []
        for item in items {
            guard let text = item.stringValue, let pattern = try? NamePattern(text) else {
                throw invalid("\(claim) holds something that is not a channel pattern")
            }
            patterns.append(pattern)
        }
        return patterns
    }

    private static func invalid(_ detail: String) -> SwitchboardError {
        SwitchboardError(.unauthorized, "invalid token: \(detail)")
    }
}

/// A webhook target: where to POST, which events it wants, how to sign, how fast and in what order.
public struct Endpoint: Sendable {
    /// `ep_…`.
    public let id: String
    /// What the user may set.
    public var settings: EndpointSettings
    /// The key deliveries are signed with.
    public var signingKey: WebhookSigningKey
    /// A key rotated out that still signs until `previousKeyExpires`.
    public var previousKey: WebhookSigningKey?
    /// When `previousKey` stops signing.
    public var previousKeyExpires: Timestamp?
    /// Whether deliveries are made; disabled endpoints receive no new deliveries.
    public var isEnabled: Bool
    /// Why it was disabled (`410 Gone`, failing for 5 days, or by a user).
    public var disabledReason: String?
    /// Since when every attempt failed (nil while healthy).
    public var failingSince: Timestamp?
    /// When it was made.
    public let created: Timestamp
    /// When it last changed; caches compare it.
    public var updated: Timestamp

    /// Makes an endpoint.
    public init(
        id: String,
        settings: EndpointSettings,
        signingKey: WebhookSigningKey,
        previousKey: WebhookSigningKey? = nil,
        previousKeyExpires: Timestamp? = nil,
        isEnabled: Bool = true,
        disabledReason: String? = nil,
        failingSince: Timestamp? = nil,
        created: Timestamp,
        updated: Timestamp
    ) {
        self.id = id
        self.settings = settings
        self.signingKey = signingKey
        self.previousKey = previousKey
        self.previousKeyExpires = previousKeyExpires
        self.isEnabled = isEnabled
        self.disabledReason = disabledReason
        self.failingSince = failingSince
        self.created = created
        self.updated = updated
    }

    /// A new endpoint id, `ep_` and 22 base-62 characters.
    public static func makeID(using generator: inout some RandomNumberGenerator) -> String {
        "ep_" + RandomToken.base62(count: 22, using: &generator)
    }

    /// The keys that sign at `time`: the current one, and the previous one until it expires.
    public func signingKeys(at time: Timestamp) -> [WebhookSigningKey] {
        if let previousKey, let previousKeyExpires, time < previousKeyExpires {
            return [signingKey, previousKey]
        }
        return [signingKey]
    }

    /// The `webhook-signature` header value: one signature per valid key, space-separated.
    public func signatureHeader(id: String, timestamp: Int64, body: [UInt8], at time: Timestamp) -> String {
        signingKeys(at: time).map { $0.sign(id: id, timestamp: timestamp, body: body) }.joined(separator: " ")
    }
}

/// A configured origin of inbound webhooks (e.g. `github`): how its requests are verified, which
/// channel their events go to, and where each event's type and the provider's delivery id are read.
public struct InboundSource: Hashable, Sendable {
    /// The name in `/v1/inbound/{name}`: 1–64 of `a–z 0–9 _ -`.
    public let name: String
    /// The verification scheme.
    public var scheme: InboundScheme
    /// The secrets tried, newest first; several during a rotation. Empty only for `none`.
    public var secrets: [String]
    /// Where events land.
    public var channel: ChannelName
    /// Where the event type is read; `defaultType` when absent there.
    public var typeFrom: InboundField?
    /// The type of events whose request carries none.
    public var defaultType: EventType
    /// Where the provider's delivery id is read, for deduplication; nil: no deduplication.
    public var idFrom: InboundField?
    /// The largest body accepted, in bytes.
    public var maximumBodyBytes: Int
    /// How far a signed timestamp may be from now, in seconds (schemes that sign one).
    public var toleranceSeconds: Int

    /// The body limit when none is configured: 1 MiB, above what the common providers send.
    public static let defaultMaximumBodyBytes = 1_048_576

    /// Makes a source; `validate()` checks it.
    public init(
        name: String,
        scheme: InboundScheme,
        secrets: [String],
        channel: ChannelName,
        typeFrom: InboundField? = nil,
        defaultType: EventType? = nil,
        idFrom: InboundField? = nil,
        maximumBodyBytes: Int = InboundSource.defaultMaximumBodyBytes,
        toleranceSeconds: Int = 300
    ) {
        self.name = name
        self.scheme = scheme
        self.secrets = secrets
        self.channel = channel
        self.typeFrom = typeFrom ?? Self.defaultTypeField(for: scheme)
        self.defaultType = defaultType ?? EventType(trusted: "webhook.received")
        self.idFrom = idFrom ?? Self.defaultIDField(for: scheme)
        self.maximumBodyBytes = maximumBodyBytes
        self.toleranceSeconds = toleranceSeconds
    }

    /// Where each scheme's providers put the event type.
    public static func defaultTypeField(for scheme: InboundScheme) -> InboundField? {
        switch scheme {
        case .github: .header("X-GitHub-Event")
        case .shopify: .header("X-Shopify-Topic")
        case .slack: .json(["event", "type"])
        case .standard, .stripe, .hmac, .none: .json(["type"])
        }
    }

    /// Where each scheme's providers put a delivery id that stays the same across retries.
    public static func defaultIDField(for scheme: InboundScheme) -> InboundField? {
        switch scheme {
        case .github: .header("X-GitHub-Delivery")
        case .shopify: .header("X-Shopify-Webhook-Id")
        case .standard: .header("webhook-id")
        case .stripe: .json(["id"])
        case .slack: .json(["event_id"])
        case .hmac, .none: nil
        }
    }

    /// Checks the name, secrets, channel and limits.
    public func validate() throws(SwitchboardError) {
        guard !name.isEmpty, name.utf8.count <= 64, name.utf8.allSatisfy(Self.isNameByte) else {
            throw SwitchboardError(.badRequest, "a source name is 1 to 64 characters of a-z 0-9 _ -")
        }
        guard !channel.isServerWritten else {
            throw SwitchboardError(.badRequest, "a source cannot publish to the server's own $ channels")
        }
        if scheme == .none {
            guard secrets.isEmpty else { throw SwitchboardError(.badRequest, "verify none takes no secrets") }
        } else {
            guard (1...10).contains(secrets.count) else {
                throw SwitchboardError(.badRequest, "secrets must list 1 to 10 secrets")
            }
        }
        for secret in secrets {
            guard !secret.isEmpty, secret.utf8.count <= 1024 else {
                throw SwitchboardError(.badRequest, "a secret is 1 to 1024 bytes")
            }
            if scheme == .standard, InboundVerifier.standardKey(secret) == nil {
                throw SwitchboardError(.badRequest, "a standard secret is whsec_ followed by base64")
            }
        }
        guard (1...(64 * 1_048_576)).contains(maximumBodyBytes) else {
            throw SwitchboardError(.badRequest, "maxBodyBytes is 1 to 67108864")
        }
        guard (1...86_400).contains(toleranceSeconds) else {
            throw SwitchboardError(.badRequest, "toleranceSeconds is 1 to 86400")
        }
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"),
            UInt8(ascii: "-"):
            true
        default: false
        }
    }
}

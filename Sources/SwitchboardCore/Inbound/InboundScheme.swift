/// How an inbound source proves that a request came from its provider: the providers' own schemes,
/// a configurable HMAC header for the rest, or nothing.
public enum InboundScheme: Hashable, Sendable {
    /// Standard Webhooks (and Svix's header names): `webhook-id`, `webhook-timestamp`, `webhook-signature`.
    case standard
    /// Stripe: `Stripe-Signature: t=<seconds>,v1=<hex>[,v1=…]` over `<t>.<body>`.
    case stripe
    /// Slack: `X-Slack-Signature: v0=<hex>` over `v0:<X-Slack-Request-Timestamp>:<body>`.
    case slack
    /// One HMAC of the body in one header: GitHub, Shopify and any provider that signs that way.
    case hmac(HMACHeaderRule)
    /// No verification (for trusted networks and tests).
    case none

    /// GitHub: `X-Hub-Signature-256: sha256=<hex>`.
    public static let github = InboundScheme.hmac(
        HMACHeaderRule(header: "X-Hub-Signature-256", algorithm: .sha256, encoding: .hex, prefix: "sha256=")
    )
    /// Shopify: `X-Shopify-Hmac-Sha256: <base64>`.
    public static let shopify = InboundScheme.hmac(
        HMACHeaderRule(header: "X-Shopify-Hmac-Sha256", algorithm: .sha256, encoding: .base64, prefix: "")
    )
}

/// A body HMAC carried in one request header.
public struct HMACHeaderRule: Hashable, Sendable {
    /// The hash behind the HMAC; SHA-1 only where a provider still uses it.
    public enum Algorithm: String, Hashable, Sendable, CaseIterable {
        case sha256
        case sha1
    }

    /// How the MAC is written in the header.
    public enum Encoding: String, Hashable, Sendable, CaseIterable {
        case hex
        case base64
    }

    /// The header's name.
    public var header: String
    /// The hash.
    public var algorithm: Algorithm
    /// Hex or base64.
    public var encoding: Encoding
    /// Text before the MAC (`sha256=` for GitHub), may be empty.
    public var prefix: String

    /// Makes a rule.
    public init(header: String, algorithm: Algorithm = .sha256, encoding: Encoding = .hex, prefix: String = "") {
        self.header = header
        self.algorithm = algorithm
        self.encoding = encoding
        self.prefix = prefix
    }
}

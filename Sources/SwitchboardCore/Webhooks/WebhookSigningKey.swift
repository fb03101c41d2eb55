import Crypto
import FoundationEssentials

/// How an endpoint's deliveries are signed: Standard Webhooks `v1` (HMAC-SHA256 with a shared secret),
/// `v1a` (Ed25519; the receiver holds only the public key), or as a Pusher app's webhooks (the body in
/// Pusher's format, `X-Pusher-Signature` with the app's secret, which the configuration holds).
public enum WebhookSigningKey: Hashable, Sendable {
    /// `v1`: HMAC-SHA256 with the secret's key bytes.
    case hmac(WebhookSecret)
    /// `v1a`: Ed25519 with this private key (its 32 raw bytes).
    case ed25519(privateKey: [UInt8])
    /// Pusher's webhooks of the configured Pusher app with this id (see `PusherWebhook`).
    case pusher(app: String)

    /// A new Ed25519 key.
    public static func newEd25519() -> WebhookSigningKey {
        .ed25519(privateKey: Array(Curve25519.Signing.PrivateKey().rawRepresentation))
    }

    /// `whsk_<base64 private key>` text for an Ed25519 key, the stored form.
    public static let ed25519SecretPrefix = "whsk_"
    /// `whpk_<base64 public key>`, what receivers of `v1a` signatures configure.
    public static let ed25519PublicPrefix = "whpk_"

    /// `pusherapp_<app id>`, the stored form of a Pusher app's signing (the secret is the app's, in the
    /// configuration, never in the store).
    public static let pusherAppPrefix = "pusherapp_"

    /// A stored secret (`whsec_…`, `whsk_…` or `pusherapp_…`) back as a key.
    public init(stored text: String) throws(SwitchboardError) {
        if text.hasPrefix(Self.pusherAppPrefix), text.utf8.count > Self.pusherAppPrefix.utf8.count {
            self = .pusher(app: String(text.dropFirst(Self.pusherAppPrefix.count)))
        } else if text.hasPrefix(Self.ed25519SecretPrefix) {
            guard let data = Data(base64Encoded: String(text.dropFirst(Self.ed25519SecretPrefix.count))),
                (try? Curve25519.Signing.PrivateKey(rawRepresentation: data)) != nil
            else { throw SwitchboardError(.badRequest, "an Ed25519 secret is whsk_ followed by base64 of 32 bytes") }
            self = .ed25519(privateKey: Array(data))
        } else {
            self = .hmac(try WebhookSecret(text))
        }
    }

    /// The stored form: `whsec_…`, `whsk_…` or `pusherapp_…`.
    public var storedText: String {
        switch self {
        case .hmac(let secret): secret.text
        case .ed25519(let key): Self.ed25519SecretPrefix + Data(key).base64EncodedString()
        case .pusher(let app): Self.pusherAppPrefix + app
        }
    }

    /// `whpk_…` for an Ed25519 key; nil for HMAC.
    public var publicKeyText: String? {
        guard case .ed25519(let raw) = self, let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) else {
            return nil
        }
        return Self.ed25519PublicPrefix + key.publicKey.rawRepresentation.base64EncodedString()
    }

    /// `"hmac-sha256"`, `"ed25519"` or `"pusher"`.
    public var schemeName: String {
        switch self {
        case .hmac: "hmac-sha256"
        case .ed25519: "ed25519"
        case .pusher: "pusher"
        }
    }

    /// The Pusher app whose webhooks these are, for `.pusher`.
    public var pusherApp: String? {
        guard case .pusher(let app) = self else { return nil }
        return app
    }

    /// The signature of one delivery: `v1,<base64>` or `v1a,<base64>` over `{id}.{timestamp}.{body}`.
    /// A Pusher app's webhooks carry no Standard Webhooks signature: empty (`PusherWebhook` signs them).
    public func sign(id: String, timestamp: Int64, body: [UInt8]) -> String {
        var content = Array("\(id).\(timestamp).".utf8)
        content.append(contentsOf: body)
        switch self {
        case .hmac(let secret):
            let mac = HMAC<SHA256>.authenticationCode(for: content, using: SymmetricKey(data: secret.key))
            return "v1," + Data(mac).base64EncodedString()
        case .ed25519(let raw):
            // The raw key was validated when parsed or made, and signing with a valid key cannot fail; an
            // empty signature would only fail verification.
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
            let signature = (try? key?.signature(for: content)) ?? Data()
            return "v1a," + signature.base64EncodedString()
        case .pusher:
            return ""
        }
    }
}

extension WebhookSigningKey: CustomStringConvertible {
    /// Never prints the secret or private key.
    public var description: String { "WebhookSigningKey(\(schemeName), …)" }
}

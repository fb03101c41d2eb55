import FoundationEssentials

/// An endpoint's HMAC signing secret: `whsec_` followed by the base64 of 24–64 random bytes. The key
/// used for signing is the decoded bytes (Standard Webhooks).
public struct WebhookSecret: Hashable, Sendable, CustomStringConvertible {
    /// The prefix every secret carries.
    public static let prefix = "whsec_"
    /// The key bytes.
    public let key: [UInt8]

    /// Parses `whsec_<base64>`; the key must be 24 to 64 bytes.
    public init(_ text: String) throws(SwitchboardError) {
        guard text.hasPrefix(Self.prefix), let data = Data(base64Encoded: String(text.dropFirst(Self.prefix.count)))
        else {
            throw SwitchboardError(.badRequest, "a secret is whsec_ followed by base64 (24 to 64 bytes)")
        }
        guard (24...64).contains(data.count) else {
            throw SwitchboardError(.badRequest, "a secret's key must be 24 to 64 bytes, not \(data.count)")
        }
        self.key = Array(data)
    }

    /// A secret with `key` as its bytes.
    public init(key: [UInt8]) {
        self.key = key
    }

    /// A new random secret of 32 bytes.
    public static func random(using generator: inout some RandomNumberGenerator) -> WebhookSecret {
        var key: [UInt8] = []
        key.reserveCapacity(32)
        while key.count < 32 {
            withUnsafeBytes(of: generator.next()) { key.append(contentsOf: $0) }
        }
        return WebhookSecret(key: key)
    }

    /// `whsec_<base64>`: the text a user configures in their receiver.
    public var text: String { Self.prefix + Data(key).base64EncodedString() }

    /// Never prints the secret.
    public var description: String { "WebhookSecret(…)" }
}

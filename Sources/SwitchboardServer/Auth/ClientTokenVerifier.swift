import FoundationEssentials
import JWTKit
public import SwitchboardCore

/// Checks client tokens (JWTs): HS256 with the shared secret, RS256, ES256 and EdDSA with the configured
/// public keys. The algorithm named in the token's header picks the keys tried; a token naming any other
/// algorithm (`none` included) is refused before any key is looked at, so one kind of key can never be
/// used as another. After the signature, the claims are read by `ClientTokenClaims`.
public final class ClientTokenVerifier: Sendable {
    /// Keys by the `alg` they verify.
    private let keys: [String: [JWTKeyCollection]]
    private let requirements: ClientTokenClaims.Requirements
    private let now: @Sendable () -> Timestamp

    /// The shortest HS256 secret accepted: as long as the hash (RFC 7518 §3.2).
    public static let minimumSecretBytes = 32

    /// Makes a verifier from a shared `secret` and PEM `publicKeys` (RSA, P-256 or Ed25519, told apart by
    /// their encoding). Throws when a key cannot be read.
    public init(
        secret: String?,
        publicKeys: [String],
        requirements: ClientTokenClaims.Requirements = .init(),
        now: @escaping @Sendable () -> Timestamp
    ) async throws {
        var keys: [String: [JWTKeyCollection]] = [:]
        if let secret, !secret.isEmpty {
            guard secret.utf8.count >= Self.minimumSecretBytes else { throw ClientTokenKeyError.secretTooShort }
            keys["HS256", default: []].append(
                await JWTKeyCollection().add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
            )
        }
        for (index, pem) in publicKeys.enumerated() {
            if let key = try? ES256PublicKey(pem: pem) {
                keys["ES256", default: []].append(await JWTKeyCollection().add(ecdsa: key))
            } else if let key = try? EdDSA.PublicKey(pem: pem) {
                keys["EdDSA", default: []].append(await JWTKeyCollection().add(eddsa: key))
            } else if let key = try? Insecure.RSA.PublicKey(pem: pem) {
                keys["RS256", default: []].append(await JWTKeyCollection().add(rsa: key, digestAlgorithm: .sha256))
            } else {
                throw ClientTokenKeyError.unreadablePublicKey(index: index)
            }
        }
        self.keys = keys
        self.requirements = requirements
        self.now = now
    }

    /// The principal `token` stands for; `unauthorized` when it is malformed, unsigned, signed with an
    /// unknown key, expired or not yet valid.
    public func principal(for token: String) async throws(SwitchboardError) -> Principal {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let header = Self.decodeJSON(parts[0]), let payload = Self.decodeJSON(parts[1]) else {
            throw SwitchboardError(.unauthorized, "the credential is not a valid API key or client token")
        }
        guard let algorithm = header["alg"]?.stringValue else {
            throw SwitchboardError(.unauthorized, "invalid token: the header names no algorithm")
        }
        guard let candidates = keys[algorithm] else {
            if algorithm.lowercased() == "none" {
                throw SwitchboardError(.unauthorized, "unsigned tokens (alg none) are refused")
            }
            throw SwitchboardError(.unauthorized, "no key is configured for tokens signed with \(algorithm)")
        }
        var verified = false
        for collection in candidates {
            if (try? await collection.verify(token, as: SignatureOnly.self)) != nil {
                verified = true
                break
            }
        }
        guard verified else { throw SwitchboardError(.unauthorized, "the token's signature does not verify") }
        return try ClientTokenClaims(payload: payload, now: now(), requirements: requirements).principal
    }

    /// Decodes one base64url segment as a JSON value.
    static func decodeJSON(_ segment: Substring) -> JSONValue? {
        guard let bytes = Base64URL.decode(segment.utf8) else { return nil }
        return try? JSONParser.parse(bytes)
    }

    /// A payload decoder that reads nothing: the claims are checked by `ClientTokenClaims` afterwards.
    private struct SignatureOnly: JWTPayload {
        init(from decoder: any Decoder) throws {}
        func encode(to encoder: any Encoder) throws {}
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }
}

/// A client-token key the verifier cannot use. The configuration reader refuses a short secret
/// already; this also guards configurations made in code, since jwt-kit traps on a short HMAC key.
public enum ClientTokenKeyError: Error, CustomStringConvertible {
    /// The HS256 secret is shorter than `ClientTokenVerifier.minimumSecretBytes`.
    case secretTooShort
    /// The public key at `index` (0-based) is not an RSA, P-256 or Ed25519 public key in PEM.
    case unreadablePublicKey(index: Int)

    /// The configuration key at fault.
    public var configurationKey: String {
        switch self {
        case .secretTooShort: "jwt.secret"
        case .unreadablePublicKey: "jwt.public_keys"
        }
    }

    /// The text form.
    public var description: String {
        switch self {
        case .secretTooShort:
            "the HS256 secret is shorter than \(ClientTokenVerifier.minimumSecretBytes) bytes"
        case .unreadablePublicKey(let index):
            "public key \(index + 1) is not an RSA, P-256 (ES256) or Ed25519 (EdDSA) public key in PEM"
        }
    }
}

public import Crypto
import FoundationEssentials

/// Verifies Standard Webhooks signatures (`webhook-id`, `webhook-timestamp`, `webhook-signature`),
/// the receiving side of `WebhookSigningKey.sign`: every space-separated `v1,`/`v1a,` entry is tried, in
/// constant time, and the timestamp must be within the tolerance.
public enum WebhookSignature {
    /// Why a signature was refused.
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        /// A header the scheme needs is absent.
        case missingHeader(String)
        /// A header is present but not in the scheme's format.
        case malformed(String)
        /// The timestamp is further than the tolerance from now.
        case timestampOutOfTolerance
        /// No signature matched.
        case noMatch

        /// A sentence for logs and inspection.
        public var description: String {
            switch self {
            case .missingHeader(let name): "the \(name) header is missing"
            case .malformed(let what): "malformed signature: \(what)"
            case .timestampOutOfTolerance: "the signed timestamp is outside the tolerance"
            case .noMatch: "no signature matches"
            }
        }
    }

    /// Checks `signatures` (the header's value) for `id`, `timestamp` and `body` against any of `keys`.
    /// `hmacKeys` are HMAC key bytes; `publicKeys` are Ed25519 public keys.
    public static func verify(
        id: String,
        timestamp: String,
        signatures: String,
        body: [UInt8],
        hmacKeys: [[UInt8]],
        publicKeys: [Curve25519.Signing.PublicKey] = [],
        now: Int64,
        toleranceSeconds: Int64 = 300
    ) -> Result<Void, Failure> {
        guard !id.isEmpty else { return .failure(.malformed("webhook-id is empty")) }
        guard let seconds = Int64(timestamp) else { return .failure(.malformed("webhook-timestamp is not an integer")) }
        guard SignedTimestamp.isWithin(toleranceSeconds, of: now, seconds) else {
            return .failure(.timestampOutOfTolerance)
        }
        var content = Array("\(id).\(seconds).".utf8)
        content.append(contentsOf: body)
        let expectedMacs = hmacKeys.map {
            Array(HMAC<SHA256>.authenticationCode(for: content, using: SymmetricKey(data: $0)))
        }
        var matched = false
        for entry in signatures.split(separator: " ") {
            guard let comma = entry.firstIndex(of: ",") else { continue }
            let version = entry[..<comma]
            guard let presented = InboundVerifier.canonicalBase64(entry[entry.index(after: comma)...]) else { continue }
            switch version {
            case "v1":
                for expected in expectedMacs where ConstantTime.equals(expected, presented) { matched = true }
            case "v1a":
                for key in publicKeys where key.isValidSignature(Data(presented), for: content) { matched = true }
            default:
                continue
            }
        }
        return matched ? .success(()) : .failure(.noMatch)
    }
}

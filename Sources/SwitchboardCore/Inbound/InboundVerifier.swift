public import Crypto
import FoundationEssentials

/// Checks an inbound request against its source's scheme and secrets (several during a rotation).
/// The raw body is what is verified, before any parsing; every comparison is in constant time.
public enum InboundVerifier {
    /// Verifies `request` with `scheme` against any of `secrets`, at `now` (Unix seconds), allowing signed
    /// timestamps `toleranceSeconds` away.
    public static func verify(
        _ request: InboundRequest,
        scheme: InboundScheme,
        secrets: [String],
        now: Int64,
        toleranceSeconds: Int64 = 300
    ) -> Result<Void, InboundRejection> {
        switch scheme {
        case .none:
            return .success(())
        case .standard:
            return verifyStandard(request, secrets: secrets, now: now, toleranceSeconds: toleranceSeconds)
        case .stripe:
            return verifyStripe(request, secrets: secrets, now: now, toleranceSeconds: toleranceSeconds)
        case .slack:
            return verifySlack(request, secrets: secrets, now: now, toleranceSeconds: toleranceSeconds)
        case .hmac(let rule):
            return verifyHeader(request, rule: rule, secrets: secrets)
        }
    }

    /// The key bytes of a Standard Webhooks secret: the base64 after an optional `whsec_`; nil when the
    /// text is not base64.
    public static func standardKey(_ secret: String) -> [UInt8]? {
        let encoded =
            secret.hasPrefix(WebhookSecret.prefix) ? String(secret.dropFirst(WebhookSecret.prefix.count)) : secret
        guard let data = Data(base64Encoded: encoded), !data.isEmpty else { return nil }
        return Array(data)
    }

    // MARK: Schemes

    private static func verifyStandard(
        _ request: InboundRequest,
        secrets: [String],
        now: Int64,
        toleranceSeconds: Int64
    ) -> Result<Void, InboundRejection> {
        guard let id = request.header("webhook-id") else { return .failure(.missingHeader("webhook-id")) }
        guard let timestamp = request.header("webhook-timestamp") else {
            return .failure(.missingHeader("webhook-timestamp"))
        }
        guard let signatures = request.header("webhook-signature") else {
            return .failure(.missingHeader("webhook-signature"))
        }
        return WebhookSignature.verify(
            id: id,
            timestamp: timestamp,
            signatures: signatures,
            body: request.body,
            hmacKeys: secrets.compactMap(standardKey),
            now: now,
            toleranceSeconds: toleranceSeconds
        )
    }

    private static func verifyStripe(
        _ request: InboundRequest,
        secrets: [String],
        now: Int64,
        toleranceSeconds: Int64
    ) -> Result<Void, InboundRejection> {
        guard let header = request.header("Stripe-Signature") else {
            return .failure(.missingHeader("Stripe-Signature"))
        }
        var timestamp: Substring?
        var presented: [[UInt8]] = []
        for item in header.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let name = parts[0].trimmingSpaces
            if name == "t" {
                timestamp = Substring(parts[1].trimmingSpaces)
            } else if name == "v1", let mac = Hex.decode(parts[1].trimmingSpaces) {
                presented.append(mac)
            }
        }
        guard let timestamp else { return .failure(.malformed("Stripe-Signature has no t=")) }
        guard !presented.isEmpty else { return .failure(.malformed("Stripe-Signature has no v1= signature")) }
        if let failure = checkTolerance(timestamp, now: now, toleranceSeconds: toleranceSeconds) {
            return .failure(failure)
        }
        var signed = Array(timestamp.utf8)
        signed.append(UInt8(ascii: "."))
        signed.append(contentsOf: request.body)
        return anyMatch(presented, signed: signed, secrets: secrets, algorithm: .sha256)
    }

    private static func verifySlack(
        _ request: InboundRequest,
        secrets: [String],
        now: Int64,
        toleranceSeconds: Int64
    ) -> Result<Void, InboundRejection> {
        guard let signature = request.header("X-Slack-Signature") else {
            return .failure(.missingHeader("X-Slack-Signature"))
        }
        guard let timestamp = request.header("X-Slack-Request-Timestamp") else {
            return .failure(.missingHeader("X-Slack-Request-Timestamp"))
        }
        guard signature.hasPrefix("v0="), let mac = Hex.decode(signature.dropFirst(3)) else {
            return .failure(.malformed("X-Slack-Signature is not v0=<hex>"))
        }
        if let failure = checkTolerance(Substring(timestamp), now: now, toleranceSeconds: toleranceSeconds) {
            return .failure(failure)
        }
        var signed = Array("v0:\(timestamp):".utf8)
        signed.append(contentsOf: request.body)
        return anyMatch([mac], signed: signed, secrets: secrets, algorithm: .sha256)
    }

    private static func verifyHeader(
        _ request: InboundRequest,
        rule: HMACHeaderRule,
        secrets: [String]
    ) -> Result<Void, InboundRejection> {
        guard let value = request.header(rule.header) else { return .failure(.missingHeader(rule.header)) }
        let text = value.trimmingSpaces
        guard text.hasPrefix(rule.prefix) else {
            return .failure(.malformed("\(rule.header) does not start with \(rule.prefix)"))
        }
        let encoded = text.dropFirst(rule.prefix.count)
        let mac: [UInt8]? =
            switch rule.encoding {
            case .hex: Hex.decode(encoded)
            case .base64: canonicalBase64(encoded)
            }
        guard let mac else { return .failure(.malformed("\(rule.header) is not \(rule.encoding.rawValue)")) }
        return anyMatch([mac], signed: request.body, secrets: secrets, algorithm: rule.algorithm)
    }

    // MARK: Shared steps

    /// The bytes of `text` when it is base64 in its one canonical form. A lenient decoder ignores the
    /// unused low bits of the last character, so several header values would carry one MAC; refusing
    /// all but the canonical one means any altered character of a signature is refused.
    static func canonicalBase64(_ text: some StringProtocol) -> [UInt8]? {
        guard let data = Data(base64Encoded: String(text)), data.base64EncodedString() == text else { return nil }
        return Array(data)
    }

    /// Nil when `timestamp` (Unix seconds) is within the tolerance of `now`.
    private static func checkTolerance(_ timestamp: Substring, now: Int64, toleranceSeconds: Int64) -> InboundRejection?
    {
        guard let seconds = Int64(timestamp) else { return .malformed("the timestamp is not an integer") }
        return SignedTimestamp.isWithin(toleranceSeconds, of: now, seconds) ? nil : .timestampOutOfTolerance
    }

    /// Success when any presented MAC equals the HMAC of `signed` under any secret (its UTF-8 bytes).
    /// Every pair is compared, so the time taken does not say which one matched.
    private static func anyMatch(
        _ presented: [[UInt8]],
        signed: [UInt8],
        secrets: [String],
        algorithm: HMACHeaderRule.Algorithm
    ) -> Result<Void, InboundRejection> {
        var matched = false
        for secret in secrets {
            let key = SymmetricKey(data: Array(secret.utf8))
            let expected: [UInt8] =
                switch algorithm {
                case .sha256: Array(HMAC<SHA256>.authenticationCode(for: signed, using: key))
                case .sha1: Array(HMAC<Insecure.SHA1>.authenticationCode(for: signed, using: key))
                }
            for mac in presented where ConstantTime.equals(expected, mac) { matched = true }
        }
        return matched ? .success(()) : .failure(.noMatch)
    }
}

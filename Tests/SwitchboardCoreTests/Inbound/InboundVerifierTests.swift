import Crypto
import Foundation
import Testing

@testable import SwitchboardCore

/// Each scheme against its provider's published example (or, where a provider publishes none, a fixture
/// built exactly from its documented rule), and each with one byte altered.
@Suite("Verifying inbound webhooks")
struct InboundVerifierTests {
    private static func request(_ headers: [(String, String)], body: String) -> InboundRequest {
        InboundRequest(headers: headers.map { (name: $0.0, value: $0.1) }, body: Array(body.utf8))
    }

    private static func verify(
        _ request: InboundRequest,
        _ scheme: InboundScheme,
        secrets: [String],
        now: Int64 = 0
    ) -> InboundRejection? {
        if case .failure(let rejection) = InboundVerifier.verify(request, scheme: scheme, secrets: secrets, now: now) {
            return rejection
        }
        return nil
    }

    private static func hmacHex(_ text: String, key: String) -> String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: SymmetricKey(data: Array(key.utf8))))
    }

    // MARK: GitHub

    /// GitHub's documented example ("Validating webhook deliveries").
    private static let githubSecret = "It's a Secret to Everybody"
    private static let githubSignature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

    @Test("GitHub's published example verifies; an altered body, signature or secret does not")
    func github() {
        let good = Self.request([("X-Hub-Signature-256", Self.githubSignature)], body: "Hello, World!")
        #expect(Self.verify(good, .github, secrets: [Self.githubSecret]) == nil)
        // Header names match in any case; an old secret listed first still lets the new one match.
        let lower = Self.request([("x-hub-signature-256", Self.githubSignature)], body: "Hello, World!")
        #expect(Self.verify(lower, .github, secrets: ["old secret", Self.githubSecret]) == nil)

        let alteredBody = Self.request([("X-Hub-Signature-256", Self.githubSignature)], body: "Hello, World?")
        #expect(Self.verify(alteredBody, .github, secrets: [Self.githubSecret]) == .noMatch)
        let alteredSignature = Self.request(
            [("X-Hub-Signature-256", "sha256=857107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")],
            body: "Hello, World!"
        )
        #expect(Self.verify(alteredSignature, .github, secrets: [Self.githubSecret]) == .noMatch)
        #expect(Self.verify(good, .github, secrets: ["It's a Secret to Everybody!"]) == .noMatch)
        #expect(
            Self.verify(Self.request([], body: "Hello, World!"), .github, secrets: [Self.githubSecret])
                == .missingHeader("X-Hub-Signature-256")
        )
        let sha1 = Self.request([("X-Hub-Signature-256", "sha1=757107ea")], body: "Hello, World!")
        #expect(
            Self.verify(sha1, .github, secrets: [Self.githubSecret])
                == .malformed("X-Hub-Signature-256 does not start with sha256=")
        )
    }

    // MARK: Slack

    /// Slack's worked example ("Verifying requests from Slack").
    private static let slackSecret = "8f742231b10e8888abcd99yyyzzz85a5"
    private static let slackTimestamp: Int64 = 1_531_420_618
    private static let slackBody =
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    private static let slackSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

    private static func slackRequest(body: String = slackBody, timestamp: Int64 = slackTimestamp) -> InboundRequest {
        request(
            [("X-Slack-Signature", slackSignature), ("X-Slack-Request-Timestamp", String(timestamp))],
            body: body
        )
    }

    @Test("Slack's worked example verifies within 5 minutes of its timestamp, and not after")
    func slack() {
        #expect(
            Self.verify(Self.slackRequest(), .slack, secrets: [Self.slackSecret], now: Self.slackTimestamp + 60) == nil
        )
        #expect(
            Self.verify(Self.slackRequest(), .slack, secrets: [Self.slackSecret], now: Self.slackTimestamp + 301)
                == .timestampOutOfTolerance
        )
        let alteredBody = Self.slackRequest(body: Self.slackBody.replacingOccurrences(of: "foobar", with: "foobas"))
        #expect(Self.verify(alteredBody, .slack, secrets: [Self.slackSecret], now: Self.slackTimestamp) == .noMatch)
        // The timestamp is signed: moving it breaks the signature.
        let movedTimestamp = Self.slackRequest(timestamp: Self.slackTimestamp + 1)
        #expect(Self.verify(movedTimestamp, .slack, secrets: [Self.slackSecret], now: Self.slackTimestamp) == .noMatch)
    }

    // MARK: Stripe

    /// Stripe publishes no vector; this follows its documented rule: `t=<timestamp>,v1=<hex HMAC-SHA256 of
    /// "<timestamp>.<body>">`, keyed with the endpoint secret's text (whsec_ included).
    private static let stripeSecret = "whsec_test_secret_for_fixtures"
    private static let stripeBody = #"{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{}}}"#

    private static func stripeHeader(timestamp: Int64, secret: String = stripeSecret, body: String = stripeBody)
        -> String
    {
        "t=\(timestamp),v1=\(hmacHex("\(timestamp).\(body)", key: secret))"
    }

    @Test("Stripe-style signatures verify with one or several v1 entries, within the tolerance")
    func stripe() {
        let now: Int64 = 1_700_000_000
        let good = Self.request([("Stripe-Signature", Self.stripeHeader(timestamp: now))], body: Self.stripeBody)
        #expect(Self.verify(good, .stripe, secrets: [Self.stripeSecret], now: now + 10) == nil)
        // During Stripe's own secret rotation it sends a v1 per secret; and a v0 test signature is ignored.
        let rolled = Self.stripeHeader(timestamp: now, secret: "whsec_other")
        let several = Self.request(
            [
                (
                    "Stripe-Signature",
                    "\(rolled),v1=\(Self.hmacHex("\(now).\(Self.stripeBody)", key: Self.stripeSecret)),v0=00"
                )
            ],
            body: Self.stripeBody
        )
        #expect(Self.verify(several, .stripe, secrets: [Self.stripeSecret], now: now) == nil)
        #expect(Self.verify(good, .stripe, secrets: [Self.stripeSecret], now: now + 301) == .timestampOutOfTolerance)
        #expect(Self.verify(good, .stripe, secrets: [Self.stripeSecret], now: now - 301) == .timestampOutOfTolerance)
        let altered = Self.request(
            [("Stripe-Signature", Self.stripeHeader(timestamp: now))],
            body: Self.stripeBody.replacingOccurrences(of: "evt_1", with: "evt_2")
        )
        #expect(Self.verify(altered, .stripe, secrets: [Self.stripeSecret], now: now) == .noMatch)
        let noV1 = Self.request([("Stripe-Signature", "t=\(now),v0=abcd")], body: Self.stripeBody)
        #expect(
            Self.verify(noV1, .stripe, secrets: [Self.stripeSecret], now: now)
                == .malformed("Stripe-Signature has no v1= signature")
        )
        let huge = Self.request([("Stripe-Signature", "t=-9223372036854775808,v1=00")], body: "")
        #expect(Self.verify(huge, .stripe, secrets: [Self.stripeSecret], now: now) == .timestampOutOfTolerance)
    }

    // MARK: Shopify

    /// Shopify publishes no vector; this follows its documented rule: base64 of HMAC-SHA256 of the body,
    /// keyed with the app's client secret.
    @Test("Shopify-style base64 signatures verify; one altered byte does not")
    func shopify() {
        let secret = "shpss_client_secret"
        let body = #"{"id":820982911946154508,"email":"jon@example.com"}"#
        let mac = HMAC<SHA256>.authenticationCode(for: Array(body.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        let signature = Data(mac).base64EncodedString()
        let good = Self.request([("X-Shopify-Hmac-Sha256", signature)], body: body)
        #expect(Self.verify(good, .shopify, secrets: [secret]) == nil)
        let altered = Self.request(
            [("X-Shopify-Hmac-Sha256", signature)],
            body: body.replacingOccurrences(of: "jon", with: "jan")
        )
        #expect(Self.verify(altered, .shopify, secrets: [secret]) == .noMatch)
        // The last base64 character carries 2 unused bits: a lenient decoder would read a changed one
        // as the same MAC. Only the canonical form is accepted, so every altered character is refused.
        let last = signature.index(signature.endIndex, offsetBy: -2)
        for replacement in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        where replacement != signature[last] {
            var changed = signature
            changed.replaceSubrange(last...last, with: String(replacement))
            let request = Self.request([("X-Shopify-Hmac-Sha256", changed)], body: body)
            #expect(Self.verify(request, .shopify, secrets: [secret]) != nil, "\(changed) was accepted")
        }
        let notBase64 = Self.request([("X-Shopify-Hmac-Sha256", "***")], body: body)
        #expect(
            Self.verify(notBase64, .shopify, secrets: [secret]) == .malformed("X-Shopify-Hmac-Sha256 is not base64")
        )
    }

    // MARK: Standard Webhooks

    @Test("The Standard Webhooks vector verifies under webhook- and svix- header names")
    func standard() {
        let body = #"{"test": 2432232314}"#
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        for prefix in ["webhook", "svix"] {
            let request = Self.request(
                [
                    ("\(prefix)-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"), ("\(prefix)-timestamp", "1614265330"),
                    ("\(prefix)-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
                ],
                body: body
            )
            #expect(Self.verify(request, .standard, secrets: [secret], now: 1_614_265_330) == nil)
            #expect(
                Self.verify(request, .standard, secrets: [secret], now: 1_614_265_330 + 301) == .timestampOutOfTolerance
            )
            #expect(
                Self.verify(
                    request,
                    .standard,
                    secrets: ["whsec_" + Data(repeating: 7, count: 24).base64EncodedString()],
                    now: 1_614_265_330
                ) == .noMatch
            )
        }
        let missing = Self.request([("webhook-id", "msg_1"), ("webhook-timestamp", "1")], body: body)
        #expect(Self.verify(missing, .standard, secrets: [secret], now: 1) == .missingHeader("webhook-signature"))
    }

    // MARK: Generic HMAC

    @Test("A configured header with SHA-1, hex and a prefix verifies; the wrong algorithm does not")
    func genericHMAC() {
        let secret = "s3cret"
        let body = "payload"
        let mac = HMAC<Insecure.SHA1>.authenticationCode(
            for: Array(body.utf8),
            using: SymmetricKey(data: Array(secret.utf8))
        )
        let rule = HMACHeaderRule(header: "X-Signature", algorithm: .sha1, encoding: .hex, prefix: "sha1=")
        let request = Self.request([("X-Signature", "sha1=" + Hex.encode(mac))], body: body)
        #expect(Self.verify(request, .hmac(rule), secrets: [secret]) == nil)
        var sha256 = rule
        sha256.algorithm = .sha256
        #expect(Self.verify(request, .hmac(sha256), secrets: [secret]) == .noMatch)
        #expect(Self.verify(request, .none, secrets: []) == nil)
    }
}

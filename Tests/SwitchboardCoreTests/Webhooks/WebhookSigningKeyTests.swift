import Crypto
import FoundationEssentials
import Testing

@testable import SwitchboardCore

@Suite("Webhook signing keys")
struct WebhookSigningKeyTests {
    private let body = Array(#"{"test": 2432232314}"#.utf8)

    private func failure(_ result: Result<Void, WebhookSignature.Failure>) -> WebhookSignature.Failure? {
        if case .failure(let failure) = result { return failure }
        return nil
    }

    /// The Ed25519 public key a receiver configures, decoded from `whpk_…`.
    private func publicKey(of key: WebhookSigningKey) throws -> Curve25519.Signing.PublicKey {
        let text = try #require(key.publicKeyText)
        #expect(text.hasPrefix("whpk_"))
        let raw = try #require(Data(base64Encoded: String(text.dropFirst("whpk_".count))))
        #expect(raw.count == 32)
        return try Curve25519.Signing.PublicKey(rawRepresentation: raw)
    }

    @Test("HMAC signing reproduces the Standard Webhooks published vector")
    func signsStandardVector() throws {
        let key = WebhookSigningKey.hmac(try WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        #expect(
            key.sign(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: body)
                == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        )
        #expect(key.schemeName == "hmac-sha256")
        #expect(key.publicKeyText == nil)
    }

    @Test("The signature covers the id, the timestamp and the body")
    func signatureCoversEveryPart() throws {
        let key = WebhookSigningKey.hmac(try WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let reference = key.sign(id: "msg_1", timestamp: 1000, body: body)
        #expect(key.sign(id: "msg_2", timestamp: 1000, body: body) != reference)
        #expect(key.sign(id: "msg_1", timestamp: 1001, body: body) != reference)
        #expect(key.sign(id: "msg_1", timestamp: 1000, body: body + [0x20]) != reference)
        #expect(key.sign(id: "msg_1", timestamp: 1000, body: body) == reference)
    }

    @Test("A new Ed25519 key signs v1a signatures that verify with the whpk_ public key it publishes")
    func ed25519SignsAndVerifies() throws {
        let key = WebhookSigningKey.newEd25519()
        #expect(key.schemeName == "ed25519")
        let signature = key.sign(id: "msg_1", timestamp: 1_700_000_000, body: body)
        #expect(signature.hasPrefix("v1a,"))
        #expect(Data(base64Encoded: String(signature.dropFirst(4)))?.count == 64)

        let receiverKey = try publicKey(of: key)
        let verify = { (id: String, body: [UInt8], keys: [Curve25519.Signing.PublicKey]) in
            WebhookSignature.verify(
                id: id,
                timestamp: "1700000000",
                signatures: signature,
                body: body,
                hmacKeys: [],
                publicKeys: keys,
                now: 1_700_000_000
            )
        }
        #expect(failure(verify("msg_1", body, [receiverKey])) == nil)
        #expect(failure(verify("msg_1", body + [0x20], [receiverKey])) == .noMatch)
        #expect(failure(verify("msg_2", body, [receiverKey])) == .noMatch)
        #expect(failure(verify("msg_1", body, [try publicKey(of: .newEd25519())])) == .noMatch)
        #expect(failure(verify("msg_1", body, [])) == .noMatch)
    }

    @Test("New Ed25519 keys differ from each other")
    func newKeysDiffer() {
        #expect(WebhookSigningKey.newEd25519() != WebhookSigningKey.newEd25519())
    }

    @Test("An Ed25519 key's stored text is whsk_ and round-trips to a key that signs for the same public key")
    func ed25519StoredTextRoundTrips() throws {
        let key = WebhookSigningKey.newEd25519()
        #expect(key.storedText.hasPrefix("whsk_"))
        let restored = try WebhookSigningKey(stored: key.storedText)
        #expect(restored == key)
        #expect(restored.storedText == key.storedText)
        #expect(restored.publicKeyText == key.publicKeyText)

        let signature = restored.sign(id: "msg_1", timestamp: 1_700_000_000, body: body)
        let result = WebhookSignature.verify(
            id: "msg_1",
            timestamp: "1700000000",
            signatures: signature,
            body: body,
            hmacKeys: [],
            publicKeys: [try publicKey(of: key)],
            now: 1_700_000_000
        )
        #expect(failure(result) == nil)
    }

    @Test("An HMAC key's stored text is its whsec_ secret and round-trips")
    func hmacStoredTextRoundTrips() throws {
        let key = try WebhookSigningKey(stored: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        #expect(key == .hmac(try WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")))
        #expect(key.storedText == "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        #expect(try WebhookSigningKey(stored: key.storedText) == key)
    }

    @Test(
        "Stored text that is no valid key is refused as bad_request",
        arguments: [
            "", "whsk_", "whsk_!!!!", "whsk_" + Data([UInt8](repeating: 1, count: 31)).base64EncodedString(),
            "whsk_" + Data([UInt8](repeating: 1, count: 33)).base64EncodedString(), "whsec_AAAA", "secret",
        ]
    )
    func refusesBadStoredText(text: String) {
        let error = #expect(throws: SwitchboardError.self) { try WebhookSigningKey(stored: text) }
        #expect(error?.code == .badRequest)
    }

    @Test("Printing a key does not reveal its secret or private key")
    func descriptionHidesKey() throws {
        let ed25519 = WebhookSigningKey.newEd25519()
        guard case .ed25519(let raw) = ed25519 else {
            Issue.record("newEd25519 made \(ed25519.schemeName)")
            return
        }
        let hidden = [String(ed25519.storedText.dropFirst(5).prefix(12)), String(describing: raw)]
        for printed in ["\(ed25519)", String(reflecting: ed25519)] {
            for secret in hidden { #expect(!printed.contains(secret)) }
        }
        let hmac = try WebhookSigningKey(stored: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        #expect(!"\(hmac)".contains("MfKQ9r8G"))
    }
}

import FoundationEssentials
import Testing

@testable import SwitchboardCore

@Suite("Webhook secrets")
struct WebhookSecretTests {
    /// `whsec_` and the base64 of `count` distinct-looking bytes.
    private func secretText(bytes count: Int) -> (text: String, key: [UInt8]) {
        let key = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        return ("whsec_" + Data(key).base64EncodedString(), key)
    }

    @Test("The Standard Webhooks example secret parses to its 24 key bytes and prints back unchanged")
    func parsesStandardExample() throws {
        let secret = try WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        #expect(secret.key.count == 24)
        #expect(secret.key.prefix(3) == [0x31, 0xF2, 0x90])
        #expect(secret.text == "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    }

    @Test("Keys of 24 to 64 bytes are accepted and kept byte for byte", arguments: [24, 25, 32, 48, 64])
    func acceptsKeyLengths(count: Int) throws {
        let (text, key) = secretText(bytes: count)
        let secret = try WebhookSecret(text)
        #expect(secret.key == key)
        #expect(secret.text == text)
    }

    @Test(
        "Keys shorter than 24 or longer than 64 bytes are refused as bad_request",
        arguments: [0, 1, 16, 23, 65, 128]
    )
    func refusesKeyLengths(count: Int) {
        let (text, _) = secretText(bytes: count)
        let error = #expect(throws: SwitchboardError.self) { try WebhookSecret(text) }
        #expect(error?.code == .badRequest)
    }

    @Test(
        "Text that is not whsec_ followed by base64 is refused as bad_request",
        arguments: [
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            " whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec:MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_MfKQ9r8GKYqrTwjU*D8ILPZIo2LaLaSw",
            "whsec_MfKQ9r8GKYqr TwjUPD8ILPZIo2LaLaSw",
            "whsec_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
            "",
        ]
    )
    func refusesMalformedText(text: String) {
        let error = #expect(throws: SwitchboardError.self) { try WebhookSecret(text) }
        #expect(error?.code == .badRequest)
    }

    @Test("Random secrets are 32 bytes, fixed by the random source, and round-trip through their text")
    func randomSecrets() throws {
        var generator = SeededGenerator(seed: 7)
        var texts: Set<String> = []
        for _ in 0..<200 {
            let secret = WebhookSecret.random(using: &generator)
            #expect(secret.key.count == 32)
            #expect(secret.text.hasPrefix("whsec_"))
            #expect(try WebhookSecret(secret.text) == secret)
            texts.insert(secret.text)
        }
        #expect(texts.count == 200)

        var first = SeededGenerator(seed: 99)
        var second = SeededGenerator(seed: 99)
        #expect(WebhookSecret.random(using: &first) == WebhookSecret.random(using: &second))
    }

    @Test("Printing a secret does not reveal it")
    func descriptionHidesSecret() throws {
        let secret = try WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        for printed in [secret.description, "\(secret)", String(reflecting: secret)] {
            #expect(!printed.contains("MfKQ9r8G"))
            #expect(!printed.contains(String(describing: secret.key)))
        }
    }
}

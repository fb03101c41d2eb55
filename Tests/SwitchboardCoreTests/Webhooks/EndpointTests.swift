import Testing

@testable import SwitchboardCore

@Suite("Webhook endpoints")
struct EndpointTests {
    private let body = Array(#"{"type":"order.created"}"#.utf8)
    private let rotated = Timestamp(millisecondsSinceEpoch: 1_700_000_000_000)
    private let expires = Timestamp(millisecondsSinceEpoch: 1_700_086_400_000)

    private func makeEndpoint(
        signingKey: WebhookSigningKey,
        previousKey: WebhookSigningKey? = nil,
        previousKeyExpires: Timestamp? = nil
    ) throws -> Endpoint {
        Endpoint(
            id: "ep_test",
            settings: EndpointSettings(
                url: "https://example.com/hooks",
                filter: try EndpointFilter(channels: [NamePattern("*")], types: [])
            ),
            signingKey: signingKey,
            previousKey: previousKey,
            previousKeyExpires: previousKeyExpires,
            created: rotated,
            updated: rotated
        )
    }

    private func hmacKey(seed: UInt64) -> (key: WebhookSigningKey, bytes: [UInt8]) {
        var generator = SeededGenerator(seed: seed)
        let secret = WebhookSecret.random(using: &generator)
        return (.hmac(secret), secret.key)
    }

    private func verifies(_ signature: String, with keyBytes: [UInt8]) -> Bool {
        if case .success = WebhookSignature.verify(
            id: "msg_1",
            timestamp: "1700000100",
            signatures: signature,
            body: body,
            hmacKeys: [keyBytes],
            now: 1_700_000_100
        ) {
            return true
        }
        return false
    }

    @Test("While the previous key is valid, the header carries two signatures, each by its own key")
    func signsWithBothKeysDuringRotation() throws {
        let (current, currentBytes) = hmacKey(seed: 1)
        let (previous, previousBytes) = hmacKey(seed: 2)
        let endpoint = try makeEndpoint(signingKey: current, previousKey: previous, previousKeyExpires: expires)
        let now = Timestamp(millisecondsSinceEpoch: expires.millisecondsSinceEpoch - 1)

        #expect(endpoint.signingKeys(at: now) == [current, previous])
        let header = endpoint.signatureHeader(id: "msg_1", timestamp: 1_700_000_100, body: body, at: now)
        let signatures = header.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        try #require(signatures.count == 2)
        #expect(signatures[0] == current.sign(id: "msg_1", timestamp: 1_700_000_100, body: body))
        #expect(verifies(signatures[0], with: currentBytes))
        #expect(!verifies(signatures[0], with: previousBytes))
        #expect(verifies(signatures[1], with: previousBytes))
        #expect(!verifies(signatures[1], with: currentBytes))
        // A receiver that still has only the old secret accepts the whole header.
        #expect(verifies(header, with: previousBytes))
        #expect(verifies(header, with: currentBytes))
    }

    @Test("From the moment the previous key expires, only the current key signs", arguments: [0, 1, 86_400_000])
    func signsWithCurrentKeyAfterExpiry(millisecondsAfterExpiry: Int64) throws {
        let (current, currentBytes) = hmacKey(seed: 1)
        let (previous, previousBytes) = hmacKey(seed: 2)
        let endpoint = try makeEndpoint(signingKey: current, previousKey: previous, previousKeyExpires: expires)
        let now = Timestamp(millisecondsSinceEpoch: expires.millisecondsSinceEpoch + millisecondsAfterExpiry)

        #expect(endpoint.signingKeys(at: now) == [current])
        let header = endpoint.signatureHeader(id: "msg_1", timestamp: 1_700_000_100, body: body, at: now)
        #expect(!header.contains(" "))
        #expect(header == current.sign(id: "msg_1", timestamp: 1_700_000_100, body: body))
        #expect(verifies(header, with: currentBytes))
        #expect(!verifies(header, with: previousBytes))
    }

    @Test("Without a previous key, or without an expiry for it, only the current key signs")
    func signsWithCurrentKeyAlone() throws {
        let (current, _) = hmacKey(seed: 1)
        let (previous, _) = hmacKey(seed: 2)
        for endpoint in [
            try makeEndpoint(signingKey: current),
            try makeEndpoint(signingKey: current, previousKey: previous),
        ] {
            #expect(endpoint.signingKeys(at: rotated) == [current])
            #expect(
                endpoint.signatureHeader(id: "msg_1", timestamp: 1_700_000_100, body: body, at: rotated)
                    == current.sign(id: "msg_1", timestamp: 1_700_000_100, body: body)
            )
        }
    }

    @Test("A rotation from HMAC to Ed25519 signs with v1a and v1 side by side")
    func rotatesAcrossSchemes() throws {
        let (previous, previousBytes) = hmacKey(seed: 3)
        let current = WebhookSigningKey.newEd25519()
        let endpoint = try makeEndpoint(signingKey: current, previousKey: previous, previousKeyExpires: expires)
        let header = endpoint.signatureHeader(id: "msg_1", timestamp: 1_700_000_100, body: body, at: rotated)
        let signatures = header.split(separator: " ")
        try #require(signatures.count == 2)
        #expect(signatures[0].hasPrefix("v1a,"))
        #expect(signatures[1].hasPrefix("v1,"))
        #expect(verifies(header, with: previousBytes))
    }

    @Test("New endpoint ids are ep_ and 22 base-62 characters, fixed by the random source")
    func makesIDs() {
        var generator = SeededGenerator(seed: 11)
        var ids: Set<String> = []
        for _ in 0..<200 {
            let id = Endpoint.makeID(using: &generator)
            #expect(id.hasPrefix("ep_"))
            #expect(id.dropFirst(3).count == 22)
            #expect(id.dropFirst(3).allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
            ids.insert(id)
        }
        #expect(ids.count == 200)
        var first = SeededGenerator(seed: 4)
        var second = SeededGenerator(seed: 4)
        #expect(Endpoint.makeID(using: &first) == Endpoint.makeID(using: &second))
    }
}

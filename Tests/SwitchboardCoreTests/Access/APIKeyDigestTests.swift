import Testing

@testable import SwitchboardCore

@Suite("API key digests and generation")
struct APIKeyDigestTests {
    @Test(
        "A key is stored as the lower-case hex SHA-256 of its UTF-8 bytes",
        arguments: [
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("sbk_test", "d3af6ac414fd320a14b9163842dbbbf73abd9a82199c6ac033f183f7a4f0cb9c"),
        ]
    )
    func hexSHA256(key: String, hex: String) {
        #expect(APIKeyDigest(of: key).hex == hex)
    }

    @Test("A presented key matches its stored digest and no other")
    func comparesDigests() {
        let stored = APIKeyDigest(storedHex: APIKeyDigest(of: "sbk_right").hex)
        #expect(APIKeyDigest(of: "sbk_right").constantTimeEquals(stored))
        #expect(!APIKeyDigest(of: "sbk_wrong").constantTimeEquals(stored))
        #expect(!APIKeyDigest(of: "sbk_right ").constantTimeEquals(stored))
        #expect(!APIKeyDigest(storedHex: "").constantTimeEquals(stored))
    }

    @Test("Printing a digest does not reveal it")
    func descriptionHidesDigest() {
        let digest = APIKeyDigest(of: "sbk_secret")
        #expect(!digest.description.contains(digest.hex))
        #expect(!"\(digest)".contains(String(digest.hex.prefix(8))))
    }

    @Test(
        "Constant-time comparison is equality of bytes, whatever the lengths",
        arguments: [
            ([UInt8](), [UInt8](), true),
            ([1, 2, 3], [1, 2, 3], true),
            ([1, 2, 3], [9, 2, 3], false),
            ([1, 2, 3], [1, 2, 9], false),
            ([1, 2, 3], [1, 2], false),
            ([1, 2], [1, 2, 3], false),
            ([], [0], false),
            ([], [UInt8](repeating: 0, count: 256), false),
            ([UInt8](repeating: 7, count: 300), [UInt8](repeating: 7, count: 44), false),
        ]
    )
    func constantTimeEquality(a: [UInt8], b: [UInt8], equal: Bool) {
        #expect(ConstantTime.equals(a, b) == equal)
    }

    @Test("New keys are sbk_ and 40 base-62 characters, fixed by the random source and never repeated")
    func generatesKeys() {
        var generator = SeededGenerator(seed: 42)
        var keys: Set<String> = []
        for _ in 0..<500 {
            let key = APIKeyGenerator.makeKey(using: &generator)
            #expect(key.hasPrefix("sbk_"))
            let body = key.dropFirst(4)
            #expect(body.count == 40)
            #expect(body.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
            keys.insert(key)
        }
        #expect(keys.count == 500)

        var first = SeededGenerator(seed: 5)
        var second = SeededGenerator(seed: 5)
        #expect(APIKeyGenerator.makeKey(using: &first) == APIKeyGenerator.makeKey(using: &second))
    }
}

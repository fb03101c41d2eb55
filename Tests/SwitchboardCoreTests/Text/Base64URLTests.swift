import SwitchboardCore
import Testing

@Suite("base64url")
struct Base64URLTests {
    @Test("Bytes round-trip without padding, in the URL-safe alphabet (RFC 4648's test vectors)")
    func roundTrip() {
        for (text, encoded) in [("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg")] {
            #expect(Base64URL.encode(Array(text.utf8)) == encoded)
            #expect(Base64URL.decode(encoded.utf8) == Array(text.utf8))
        }
        let bytes: [UInt8] = [0xFB, 0xFF, 0xBF]
        #expect(Base64URL.encode(bytes) == "-_-_")
        #expect(Base64URL.decode("-_-_".utf8) == bytes)
        #expect(Base64URL.decode("Zg==".utf8) == Array("f".utf8), "padding is accepted")
    }

    @Test("Text that is not base64url is refused")
    func refusals() {
        #expect(Base64URL.decode("+/+/".utf8) == nil, "the standard alphabet's + and / are not base64url")
        #expect(Base64URL.decode("%%".utf8) == nil)
        #expect(Base64URL.decode("a".utf8) == nil)
    }
}

import Crypto
import Foundation

/// HS256 client tokens made by hand (header, payload, HMAC), so tests control every byte, including
/// the ones a well-behaved library would refuse to produce.
enum TestTokens {
    /// At least 32 bytes: JWTKit asserts (a trap in debug builds) on a shorter HMAC key.
    static let secret = "test-secret-test-secret-test-secret"

    static func base64URL(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// An HS256 token for `payload` (JSON text), signed with `secret`.
    static func hs256(payload: String, secret: String = secret, header: String = #"{"alg":"HS256","typ":"JWT"}"#)
        -> String
    {
        let signingInput = base64URL(Array(header.utf8)) + "." + base64URL(Array(payload.utf8))
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data(signingInput.utf8),
            using: SymmetricKey(data: Data(secret.utf8))
        )
        return signingInput + "." + base64URL(Array(mac))
    }

    /// A token for `user` valid `seconds` from now, with the `channels` and `publish` claims (JSON arrays).
    static func token(
        user: String,
        expiresIn seconds: Int = 60,
        channels: String = #"["chat:*"]"#,
        publish: String = "[]"
    ) -> String {
        let exp = Int(Date().timeIntervalSince1970) + seconds
        return hs256(payload: #"{"sub":"\#(user)","exp":\#(exp),"channels":\#(channels),"publish":\#(publish)}"#)
    }
}

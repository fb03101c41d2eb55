import FoundationEssentials

/// base64url without padding (RFC 4648 §5): bytes as text safe in ids, URLs and headers (and the
/// segments of a JWT).
public enum Base64URL {
    /// `bytes` in base64url, without `=`.
    public static func encode(_ bytes: [UInt8]) -> String {
        var text = Data(bytes).base64EncodedString()
        while text.last == "=" { text.removeLast() }
        return String(text.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
    }

    /// The bytes `text` (base64url, with or without padding) encodes; nil when it is not base64url.
    public static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        var standard = text.map { byte -> UInt8 in
            switch byte {
            case UInt8(ascii: "-"): UInt8(ascii: "+")
            case UInt8(ascii: "_"): UInt8(ascii: "/")
            case UInt8(ascii: "+"), UInt8(ascii: "/"): 0  // not base64url: refused below
            default: byte
            }
        }
        while standard.count % 4 != 0 { standard.append(UInt8(ascii: "=")) }
        guard let data = Data(base64Encoded: Data(standard)) else { return nil }
        return Array(data)
    }
}

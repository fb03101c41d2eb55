/// One file the server hands to browsers (the client module, the console, an example page): its
/// bytes, its media type and a validator for conditional requests.
public struct WebAsset: Sendable {
    /// The file's name, such as `client.js`.
    public let name: String
    /// The `Content-Type` it is served with.
    public let contentType: String
    /// The file's content.
    public let bytes: [UInt8]
    /// A strong `ETag` (quoted) derived from the content, so that a browser revalidates cheaply.
    public let etag: String

    /// Makes an asset from a file's name and content.
    public init(name: String, bytes: [UInt8]) {
        self.name = name
        self.contentType = Self.contentType(ofFileNamed: name)
        self.bytes = bytes
        self.etag = "\"\(Self.fingerprint(bytes))\""
    }

    /// The media type for a file name's extension (`application/octet-stream` when unknown).
    public static func contentType(ofFileNamed name: String) -> String {
        switch name.split(separator: ".").last {
        case "js": "text/javascript; charset=utf-8"
        case "ts": "application/typescript; charset=utf-8"
        case "html": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "json": "application/json"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        default: "application/octet-stream"
        }
    }

    /// 64-bit FNV-1a of the content, in hex with its length: enough to tell versions of a file apart.
    private static func fingerprint(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex + "-" + String(bytes.count, radix: 16)
    }
}

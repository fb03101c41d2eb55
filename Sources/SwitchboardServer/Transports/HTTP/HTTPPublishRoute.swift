import NIOHTTP1

/// Which requests `HTTPPublishHandler` answers itself: `POST /v1/channels/{channel}/events` over
/// HTTP/1.1 with a `Content-Length` body within the request limit, no `Transfer-Encoding`, no `Expect`
/// and no `Origin` (a browser's request gets its CORS answer from the router). Everything else goes to
/// the router, which answers every case, refusals included.
enum HTTPPublishRoute {
    /// A publish request taken off the router.
    struct Request: Sendable {
        /// The `{channel}` path segment, as sent.
        let channelSegment: String
        let idempotencyKey: String?
        let contentLength: Int
        /// Whether the connection stays open after the answer.
        let keepAlive: Bool
    }

    private static let prefix = "/v1/channels/"
    private static let suffix = "/events"

    /// The request when `head` is one this route takes; nil for the router.
    static func request(_ head: HTTPRequestHead, maximumBodyBytes: Int) -> Request? {
        guard head.method == .POST, head.version == .http1_1 else { return nil }
        guard let segment = channelSegment(ofURI: head.uri) else { return nil }
        let headers = head.headers
        guard !headers.contains(name: "Origin"), !headers.contains(name: "Expect"),
            !headers.contains(name: "Transfer-Encoding")
        else { return nil }
        let lengths = headers[canonicalForm: "Content-Length"]
        guard lengths.count == 1, let length = Int(lengths[0]), (0...maximumBodyBytes).contains(length) else {
            return nil
        }
        // Raw values, as the router reads them: an empty key is refused there, not taken as no key.
        let keys = headers["Idempotency-Key"]
        guard keys.count <= 1 else { return nil }
        return Request(
            channelSegment: segment,
            idempotencyKey: keys.first,
            contentLength: length,
            keepAlive: head.isKeepAlive
        )
    }

    /// The `{channel}` of `/v1/channels/{channel}/events` (a query is ignored, as the router does); nil
    /// for any other path or an empty segment.
    static func channelSegment(ofURI uri: String) -> String? {
        let path = uri.utf8.firstIndex(of: UInt8(ascii: "?")).map { uri[..<$0] } ?? uri[...]
        guard path.hasPrefix(prefix), path.hasSuffix(suffix) else { return nil }
        let start = path.index(path.startIndex, offsetBy: prefix.count)
        let end = path.index(path.endIndex, offsetBy: -suffix.count)
        guard start < end else { return nil }
        let segment = path[start..<end]
        guard !segment.contains("/") else { return nil }
        return String(segment)
    }
}

import SwitchboardCore

/// Which browser origins may open WebSockets and read the HTTP API (CORS). A request without `Origin`
/// is not from a browser page and is not concerned; one whose origin is on the server's own host name
/// (any port: non-browser clients often send the host without the port) is always allowed; otherwise the origin must be listed (`http.allowed_origins`), or the list must hold `*`, or
/// the server must be in development mode.
struct OriginPolicy: Sendable {
    private let allowed: Set<String>
    private let allowsAny: Bool

    init(allowedOrigins: [String], isDevelopmentMode: Bool) {
        self.allowed = Set(allowedOrigins.map(Self.normalized))
        self.allowsAny = isDevelopmentMode || allowedOrigins.contains("*")
    }

    /// Whether a request from `origin` (its `Origin` header) to `host` (its `Host` header) is allowed.
    func allows(origin: String?, host: String?) -> Bool {
        guard let origin, !origin.isEmpty else { return true }
        if allowsAny { return true }
        let normalized = Self.normalized(origin)
        if allowed.contains(normalized) { return true }
        guard let host, let schemeEnd = normalized.firstRange(of: "://") else { return false }
        return Self.hostName(normalized[schemeEnd.upperBound...]) == Self.hostName(Substring(host.lowercased()))
    }

    /// `host` without its port (`[::1]:8080` → `[::1]`, `example.com:443` → `example.com`).
    private static func hostName(_ authority: Substring) -> Substring {
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            return authority[...close]
        }
        return authority.split(separator: ":", maxSplits: 1).first ?? authority
    }

    /// The CORS response headers for an allowed cross-origin request (none for a refused one, which the
    /// browser then refuses to show to the page).
    func corsHeaders(origin: String?, host: String?) -> [(String, String)] {
        guard let origin, !origin.isEmpty, allows(origin: origin, host: host) else { return [] }
        return [
            ("Access-Control-Allow-Origin", origin),
            ("Vary", "Origin"),
            ("Access-Control-Expose-Headers", "Retry-After, Idempotent-Replayed, Location"),
        ]
    }

    /// The extra headers of a preflight (`OPTIONS`) answer.
    static let preflightHeaders = [
        ("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE"),
        ("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key, Last-Event-ID"),
        ("Access-Control-Max-Age", "600"),
    ]

    private static func normalized(_ origin: String) -> String {
        var text = origin.trimmingSpaces.lowercased()
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }
}

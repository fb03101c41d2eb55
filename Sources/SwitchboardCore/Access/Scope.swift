/// One permission an API key carries: `admin`, `publish:<pattern>` or `subscribe:<pattern>`.
public enum Scope: Hashable, Sendable, CustomStringConvertible {
    case admin
    case publish(NamePattern)
    case subscribe(NamePattern)

    /// Parses the wire form.
    public init(_ text: String) throws(SwitchboardError) {
        // Compared as bytes: a combining mark after the colon must not hide the prefix.
        let bytes = Array(text.utf8)
        if text == "admin" {
            self = .admin
        } else if bytes.starts(with: "publish:".utf8) {
            self = .publish(try NamePattern(String(decoding: bytes.dropFirst(8), as: UTF8.self)))
        } else if bytes.starts(with: "subscribe:".utf8) {
            self = .subscribe(try NamePattern(String(decoding: bytes.dropFirst(10), as: UTF8.self)))
        } else {
            throw SwitchboardError(.badRequest, "a scope is admin, publish:<pattern> or subscribe:<pattern>")
        }
    }

    /// The text form.
    public var description: String {
        switch self {
        case .admin: "admin"
        case .publish(let p): "publish:\(p)"
        case .subscribe(let p): "subscribe:\(p)"
        }
    }
}

/// Who is asking and what they may do; made by authentication, consulted by every operation.
public struct Principal: Hashable, Sendable {
    /// The user id shown to others (a token's `sub`, or nil for a key or anonymous client).
    public var user: String?
    /// Channels this principal may subscribe to.
    public var subscribePatterns: [NamePattern]
    /// Channels this principal may publish to.
    public var publishPatterns: [NamePattern]
    /// Whether this principal may administer the server.
    public var isAdmin: Bool
    /// Whether no credential was presented.
    public var isAnonymous: Bool
    /// The API key's id (`key_…`), for per-key limits; nil for a client token or anonymous client.
    public var keyID: String?
    /// The token's `info` claim, shown to others in presence.
    public var info: JSONValue?
    /// When the client token stops being valid (its `exp`); nil for keys and tokens without one.
    public var expires: Timestamp?

    /// Makes a principal.
    public init(
        user: String? = nil,
        subscribePatterns: [NamePattern] = [],
        publishPatterns: [NamePattern] = [],
        isAdmin: Bool = false,
        isAnonymous: Bool = false,
        keyID: String? = nil,
        info: JSONValue? = nil,
        expires: Timestamp? = nil
    ) {
        self.user = user
        self.subscribePatterns = subscribePatterns
        self.publishPatterns = publishPatterns
        self.isAdmin = isAdmin
        self.isAnonymous = isAnonymous
        self.keyID = keyID
        self.info = info
        self.expires = expires
    }

    /// A client that presented no credential.
    public static let anonymous = Principal(isAnonymous: true)

    /// The principal of an API key with `scopes` (and, when known, its id).
    public init(scopes: [Scope], keyID: String? = nil) {
        self.init(keyID: keyID)
        for scope in scopes {
            switch scope {
            case .admin: isAdmin = true
            case .publish(let p): publishPatterns.append(p)
            case .subscribe(let p): subscribePatterns.append(p)
            }
        }
    }
}

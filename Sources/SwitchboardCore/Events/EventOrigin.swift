/// Where an event came from, kept with it for the operator's "story" of an event: an HTTP publish
/// with an API key, a real-time client, an inbound webhook source, or the server itself.
public enum EventOrigin: Hashable, Sendable {
    /// `POST /v1/channels/{c}/events` or `/v1/events`, with this API key (nil in development mode without one).
    case api(key: String?)
    /// A WebSocket client's `publish`, by this user (nil for an anonymous client).
    case client(user: String?)
    /// An inbound webhook of this source.
    case inbound(source: String)
    /// Written by the server (`$system`, `$presence:` journals).
    case server

    /// The stored form: `api:<key id>`, `client:<user>`, `inbound:<source>` or `server`.
    public var storedText: String {
        switch self {
        case .api(let key): "api:" + (key ?? "")
        case .client(let user): "client:" + (user ?? "")
        case .inbound(let source): "inbound:" + source
        case .server: "server"
        }
    }

    /// Reads the stored form; nil for text no version wrote.
    public init?(storedText text: String) {
        if text == "server" {
            self = .server
            return
        }
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let value = String(text[text.index(after: colon)...])
        switch text[..<colon] {
        case "api": self = .api(key: value.isEmpty ? nil : value)
        case "client": self = .client(user: value.isEmpty ? nil : value)
        case "inbound": self = .inbound(source: value)
        default: return nil
        }
    }

    /// `{"kind":"api","key":…}`, `{"kind":"client","user":…}`, `{"kind":"inbound","source":…}` or `{"kind":"server"}`.
    public var json: JSONValue {
        switch self {
        case .api(let key): .object([("kind", .string("api")), ("key", key.map { .string($0) } ?? .null)])
        case .client(let user): .object([("kind", .string("client")), ("user", user.map { .string($0) } ?? .null)])
        case .inbound(let source): .object([("kind", .string("inbound")), ("source", .string(source))])
        case .server: .object([("kind", .string("server"))])
        }
    }
}

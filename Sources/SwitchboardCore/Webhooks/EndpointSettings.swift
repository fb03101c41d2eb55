import FoundationEssentials

/// The user-chosen part of an endpoint, as created with `POST /v1/endpoints` and changed with `PATCH`.
public struct EndpointSettings: Hashable, Sendable {
    /// `http://` or `https://` URL.
    public var url: String
    /// Which events it wants.
    public var filter: EndpointFilter
    /// A label for people.
    public var description: String
    /// Most deliveries started per second (nil: unlimited).
    public var rateLimit: Int?
    /// One delivery in flight, a channel's events in offset order.
    public var isOrdered: Bool
    /// Extra request headers, in order.
    public var headers: [HeaderField]

    /// One extra header.
    public struct HeaderField: Hashable, Sendable {
        /// Name as given.
        public let name: String
        /// Value.
        public let value: String

        /// Makes a field.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Makes settings; values are validated by `validated()`.
    public init(
        url: String,
        filter: EndpointFilter,
        description: String = "",
        rateLimit: Int? = nil,
        isOrdered: Bool = false,
        headers: [HeaderField] = []
    ) {
        self.url = url
        self.filter = filter
        self.description = description
        self.rateLimit = rateLimit
        self.isOrdered = isOrdered
        self.headers = headers
    }

    /// Headers the server sets itself, which an endpoint may not override.
    public static let reservedHeaders: Set<String> = [
        "content-type", "content-length", "host", "user-agent", "connection", "transfer-encoding",
        "webhook-id", "webhook-timestamp", "webhook-signature", "te", "upgrade", "expect", "x-pusher-key",
        "x-pusher-signature",
    ]

    /// Parses a create request (`url` and `channels` required) or, with `base`, applies a `PATCH` to it.
    public init(json: JSONValue, base: EndpointSettings? = nil) throws(SwitchboardError) {
        guard case .object(let members) = json else {
            throw SwitchboardError(.badRequest, "the body must be a JSON object")
        }
        let known: Set<String> = [
            "url", "channels", "types", "description", "rateLimit", "ordered", "headers", "secret", "signing",
            "pusherApp",
        ]
        for (key, _) in members where !known.contains(key) {
            throw SwitchboardError(.badRequest, "unknown field \(JSONWriter.quoted(key))")
        }
        guard let url = try json["url"].map({ v throws(SwitchboardError) in try Self.string(v, "url") }) ?? base?.url
        else {
            throw SwitchboardError(.badRequest, "url is required")
        }
        let channels = try json["channels"].map { v throws(SwitchboardError) in try Self.patterns(v, "channels") }
        let types = try json["types"].map { v throws(SwitchboardError) in try Self.patterns(v, "types") }
        guard let channelPatterns = channels ?? base?.filter.channels else {
            throw SwitchboardError(
                .badRequest,
                "channels is required: a list of channel patterns such as [\"orders\", \"chat:*\"]"
            )
        }
        self.url = url
        self.filter = try EndpointFilter(channels: channelPatterns, types: types ?? base?.filter.types ?? [])
        self.description =
            try json["description"].map { v throws(SwitchboardError) in try Self.string(v, "description") }
            ?? base?.description ?? ""
        switch json["rateLimit"] {
        case .none: self.rateLimit = base?.rateLimit
        case .some(.null): self.rateLimit = nil
        case .some(let value):
            guard let limit = value.intValue, limit > 0, limit <= 100_000 else {
                throw SwitchboardError(.badRequest, "rateLimit is deliveries per second, 1 to 100000, or null")
            }
            self.rateLimit = Int(limit)
        }
        switch json["ordered"] {
        case .none: self.isOrdered = base?.isOrdered ?? false
        case .some(.bool(let ordered)): self.isOrdered = ordered
        case .some: throw SwitchboardError(.badRequest, "ordered must be true or false")
        }
        switch json["headers"] {
        case .none: self.headers = base?.headers ?? []
        case .some(.null): self.headers = []
        case .some(.object(let fields)):
            self.headers = try fields.map { (name, value) throws(SwitchboardError) in
                guard let text = value.stringValue else {
                    throw SwitchboardError(.badRequest, "header \(JSONWriter.quoted(name)) must be a string")
                }
                return HeaderField(name: name, value: text)
            }
        case .some: throw SwitchboardError(.badRequest, "headers must be an object of strings")
        }
        try validate()
    }

    /// The URL of an endpoint whose deliveries go to a `switchboard listen` session over its WebSocket.
    public static let relayURL = "relay://listen"

    /// Whether deliveries are relayed to a `switchboard listen` session instead of POSTed.
    public var isRelay: Bool { url == Self.relayURL }

    /// Checks the URL, description and headers.
    public func validate() throws(SwitchboardError) {
        guard
            isRelay
                || (url.utf8.count <= 2048
                    && URL(string: url).map { parsed in
                        let scheme = parsed.scheme?.lowercased()
                        return (scheme == "http" || scheme == "https") && !(parsed.host ?? "").isEmpty
                    } == true)
        else {
            throw SwitchboardError(
                .badRequest,
                "url must be an absolute http:// or https:// URL of at most 2048 bytes (or \(Self.relayURL))"
            )
        }
        let parsed = URL(string: url)
        guard parsed?.user == nil, parsed?.password == nil else {
            throw SwitchboardError(.badRequest, "url must not carry credentials; use headers instead")
        }
        guard description.utf8.count <= 1000 else {
            throw SwitchboardError(.badRequest, "description is at most 1000 bytes")
        }
        guard headers.count <= 20 else { throw SwitchboardError(.badRequest, "at most 20 headers") }
        for header in headers {
            guard !header.name.isEmpty, header.name.utf8.count <= 100,
                header.name.utf8.allSatisfy(Self.isTokenByte)
            else {
                throw SwitchboardError(
                    .badRequest,
                    "header name \(JSONWriter.quoted(header.name)) is not a valid HTTP token"
                )
            }
            guard !Self.reservedHeaders.contains(header.name.lowercased()) else {
                throw SwitchboardError(.badRequest, "header \(JSONWriter.quoted(header.name)) is set by the server")
            }
            guard header.value.utf8.count <= 4096,
                header.value.utf8.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) })
            else {
                throw SwitchboardError(.badRequest, "header \(JSONWriter.quoted(header.name)) has an invalid value")
            }
        }
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    private static func string(_ value: JSONValue, _ field: String) throws(SwitchboardError) -> String {
        guard let text = value.stringValue else { throw SwitchboardError(.badRequest, "\(field) must be a string") }
        return text
    }

    private static func patterns(_ value: JSONValue, _ field: String) throws(SwitchboardError) -> [NamePattern] {
        guard case .array(let items) = value, items.count <= 100 else {
            throw SwitchboardError(.badRequest, "\(field) must be a list of at most 100 patterns")
        }
        return try items.map { item throws(SwitchboardError) in
            guard let text = item.stringValue else {
                throw SwitchboardError(.badRequest, "\(field) must contain strings")
            }
            return try NamePattern(text, ofTypes: field == "types")
        }
    }
}

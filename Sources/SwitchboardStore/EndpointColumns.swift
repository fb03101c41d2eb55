import SwitchboardCore

/// An endpoint as the columns of its `endpoints` row, the same in every backend: filters and headers
/// as JSON text, times in milliseconds since the epoch.
struct EndpointColumns: Sendable {
    var id: String
    var url: String
    var description: String
    var channels: String
    var types: String
    var rateLimit: Int?
    var isOrdered: Bool
    var headers: String
    var secret: String
    var previousSecret: String?
    var previousSecretExpires: Int64?
    var isEnabled: Bool
    var disabledReason: String?
    var failingSince: Int64?
    var created: Int64
    var updated: Int64

    init(
        id: String,
        url: String,
        description: String,
        channels: String,
        types: String,
        rateLimit: Int?,
        isOrdered: Bool,
        headers: String,
        secret: String,
        previousSecret: String?,
        previousSecretExpires: Int64?,
        isEnabled: Bool,
        disabledReason: String?,
        failingSince: Int64?,
        created: Int64,
        updated: Int64
    ) {
        self.id = id
        self.url = url
        self.description = description
        self.channels = channels
        self.types = types
        self.rateLimit = rateLimit
        self.isOrdered = isOrdered
        self.headers = headers
        self.secret = secret
        self.previousSecret = previousSecret
        self.previousSecretExpires = previousSecretExpires
        self.isEnabled = isEnabled
        self.disabledReason = disabledReason
        self.failingSince = failingSince
        self.created = created
        self.updated = updated
    }

    init(_ endpoint: Endpoint) {
        let settings = endpoint.settings
        self.init(
            id: endpoint.id,
            url: settings.url,
            description: settings.description,
            channels: JSONValue.array(settings.filter.channels.map { .string($0.rawValue) }).jsonText,
            types: JSONValue.array(settings.filter.types.map { .string($0.rawValue) }).jsonText,
            rateLimit: settings.rateLimit,
            isOrdered: settings.isOrdered,
            headers: Self.headersJSON(settings.headers),
            secret: endpoint.signingKey.storedText,
            previousSecret: endpoint.previousKey?.storedText,
            previousSecretExpires: endpoint.previousKeyExpires?.millisecondsSinceEpoch,
            isEnabled: endpoint.isEnabled,
            disabledReason: endpoint.disabledReason,
            failingSince: endpoint.failingSince?.millisecondsSinceEpoch,
            created: endpoint.created.millisecondsSinceEpoch,
            updated: endpoint.updated.millisecondsSinceEpoch
        )
    }

    /// The endpoint these columns hold; throws on a malformed row.
    func endpoint() throws -> Endpoint {
        func patterns(_ json: String, _ column: String) throws -> [NamePattern] {
            guard case .array(let items)? = try? JSONParser.parse(Array(json.utf8)) else {
                throw StoreError("malformed endpoints row: \(column)")
            }
            return try items.compactMap(\.stringValue).map { try NamePattern($0, ofTypes: column == "types") }
        }
        let settings = EndpointSettings(
            url: url,
            filter: try EndpointFilter(
                channels: try patterns(channels, "channels"),
                types: try patterns(types, "types")
            ),
            description: description,
            rateLimit: rateLimit,
            isOrdered: isOrdered,
            headers: Self.headers(fromJSON: headers)
        )
        return Endpoint(
            id: id,
            settings: settings,
            signingKey: try WebhookSigningKey(stored: secret),
            previousKey: try previousSecret.map { try WebhookSigningKey(stored: $0) },
            previousKeyExpires: previousSecretExpires.map(Timestamp.init(millisecondsSinceEpoch:)),
            isEnabled: isEnabled,
            disabledReason: disabledReason,
            failingSince: failingSince.map(Timestamp.init(millisecondsSinceEpoch:)),
            created: Timestamp(millisecondsSinceEpoch: created),
            updated: Timestamp(millisecondsSinceEpoch: updated)
        )
    }

    /// `[["name","value"],…]`.
    static func headersJSON(_ headers: [EndpointSettings.HeaderField]) -> String {
        JSONValue.array(headers.map { .array([.string($0.name), .string($0.value)]) }).jsonText
    }

    /// The fields back from `headersJSON`.
    static func headers(fromJSON text: String) -> [EndpointSettings.HeaderField] {
        guard case .array(let items)? = try? JSONParser.parse(Array(text.utf8)) else { return [] }
        return items.compactMap { item in
            guard case .array(let pair) = item, pair.count == 2, let name = pair[0].stringValue,
                let value = pair[1].stringValue
            else { return nil }
            return EndpointSettings.HeaderField(name: name, value: value)
        }
    }
}

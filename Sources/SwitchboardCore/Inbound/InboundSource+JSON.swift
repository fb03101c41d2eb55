extension InboundSource {
    /// Parses a create request (`POST /v1/sources` or a config file entry) or, with `base`, applies a
    /// `PATCH` to it (the name cannot change).
    public init(json: JSONValue, base: InboundSource? = nil) throws(SwitchboardError) {
        guard case .object(let members) = json else {
            throw SwitchboardError(.badRequest, "the body must be a JSON object")
        }
        let known: Set<String> = [
            "name", "verify", "secrets", "channel", "typeFrom", "defaultType", "idFrom", "maxBodyBytes",
            "toleranceSeconds", "hmac",
        ]
        for (key, _) in members where !known.contains(key) {
            throw SwitchboardError(.badRequest, "unknown field \(JSONWriter.quoted(key))")
        }
        let name: String
        if let base {
            if let given = json["name"], given.stringValue != base.name {
                throw SwitchboardError(.conflict, "a source's name cannot change")
            }
            name = base.name
        } else {
            guard let given = json["name"]?.stringValue else { throw SwitchboardError(.badRequest, "name is required") }
            name = given
        }
        let scheme: InboundScheme
        // A PATCH of `hmac` changes the fields it names and keeps the rest of the rule.
        var baseRule: HMACHeaderRule?
        if case .hmac(let rule)? = base?.scheme, base?.verifyName == "hmac" { baseRule = rule }
        if let verify = json["verify"] {
            scheme = try Self.scheme(verify, hmac: json["hmac"], base: baseRule)
        } else if let base {
            scheme =
                json["hmac"] == nil
                ? base.scheme : try Self.scheme(.string("hmac"), hmac: json["hmac"], base: baseRule)
        } else {
            throw SwitchboardError(
                .badRequest,
                "verify is required: standard, github, stripe, shopify, slack, hmac or none"
            )
        }
        let secrets = try json["secrets"].map(Self.strings) ?? base?.secrets ?? []
        if let channel = json["channel"], channel.stringValue == nil {
            throw SwitchboardError(.badRequest, "channel must be a string")
        }
        guard let channelText = json["channel"]?.stringValue ?? base?.channel.rawValue else {
            throw SwitchboardError(.badRequest, "channel is required")
        }
        // The fields a PATCH does not name are kept, except that where the old scheme's default was in
        // use, the new scheme's default takes its place.
        func kept(_ field: InboundField?, default old: InboundField?) -> InboundField? {
            guard let base else { return nil }
            return base.verifyName == Self.verifyName(of: scheme) || field != old ? field : nil
        }
        self.init(
            name: name,
            scheme: scheme,
            secrets: secrets,
            channel: try ChannelName(channelText),
            typeFrom: try Self.field(json["typeFrom"], "typeFrom")
                ?? kept(base?.typeFrom, default: base.flatMap { Self.defaultTypeField(for: $0.scheme) }),
            defaultType: try json["defaultType"].map(Self.eventType) ?? base?.defaultType,
            idFrom: try Self.field(json["idFrom"], "idFrom")
                ?? kept(base?.idFrom, default: base.flatMap { Self.defaultIDField(for: $0.scheme) }),
            maximumBodyBytes: try Self.integer(json["maxBodyBytes"], "maxBodyBytes")
                ?? base?.maximumBodyBytes ?? Self.defaultMaximumBodyBytes,
            toleranceSeconds: try Self.integer(json["toleranceSeconds"], "toleranceSeconds")
                ?? base?.toleranceSeconds ?? 300
        )
        try validate()
    }

    /// The scheme's name as configured.
    public var verifyName: String { Self.verifyName(of: scheme) }

    /// The configured name of `scheme`.
    public static func verifyName(of scheme: InboundScheme) -> String {
        switch scheme {
        case .standard: "standard"
        case .stripe: "stripe"
        case .slack: "slack"
        case .none: "none"
        case .github: "github"
        case .shopify: "shopify"
        case .hmac: "hmac"
        }
    }

    /// The source as the API shows it: everything but the secrets, of which only the count is shown.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("name", .string(name)),
            ("verify", .string(verifyName)),
            ("channel", .string(channel.rawValue)),
            ("typeFrom", typeFrom.map { .string($0.description) } ?? .null),
            ("defaultType", .string(defaultType.rawValue)),
            ("idFrom", idFrom.map { .string($0.description) } ?? .null),
            ("maxBodyBytes", .int(Int64(maximumBodyBytes))),
            ("toleranceSeconds", .int(Int64(toleranceSeconds))),
            ("secrets", .int(Int64(secrets.count))),
        ]
        if case .hmac(let rule) = scheme, verifyName == "hmac" {
            members.append(
                (
                    "hmac",
                    .object([
                        ("header", .string(rule.header)),
                        ("algorithm", .string(rule.algorithm.rawValue)),
                        ("encoding", .string(rule.encoding.rawValue)),
                        ("prefix", .string(rule.prefix)),
                    ])
                )
            )
        }
        return .object(members)
    }

    /// The source as stored: `json` with the secrets themselves, which `init(json:)` reads back.
    public var storedJSON: JSONValue {
        guard case .object(let members) = json else { return json }
        return .object(members.map { $0.0 == "secrets" ? ("secrets", .array(secrets.map { .string($0) })) : $0 })
    }

    // MARK: Fields
    // MARK: Fields

    private static func scheme(_ value: JSONValue, hmac: JSONValue?, base: HMACHeaderRule?) throws(SwitchboardError)
        -> InboundScheme
    {
        let scheme: InboundScheme
        switch value.stringValue {
        case "standard": scheme = .standard
        case "github": scheme = .github
        case "stripe": scheme = .stripe
        case "shopify": scheme = .shopify
        case "slack": scheme = .slack
        case "none": scheme = .none
        case "hmac": return .hmac(try hmacRule(hmac, base: base))
        default:
            throw SwitchboardError(
                .badRequest,
                "verify must be one of standard, github, stripe, shopify, slack, hmac, none"
            )
        }
        guard hmac == nil else { throw SwitchboardError(.badRequest, "hmac settings apply only to verify hmac") }
        return scheme
    }

    private static func hmacRule(_ value: JSONValue?, base: HMACHeaderRule?) throws(SwitchboardError)
        -> HMACHeaderRule
    {
        if let header = value?["header"], header.stringValue == nil {
            throw SwitchboardError(.badRequest, "hmac.header must be a string")
        }
        let header = value?["header"]?.stringValue ?? base?.header
        guard let value, case .object = value, let header, !header.isEmpty else {
            throw SwitchboardError(
                .badRequest,
                "verify hmac needs \"hmac\": {\"header\", \"algorithm\" (sha256|sha1), \"encoding\" (hex|base64), \"prefix\"}"
            )
        }
        var rule = base ?? HMACHeaderRule(header: header)
        rule.header = header
        if let algorithm = value["algorithm"] {
            guard let parsed = algorithm.stringValue.flatMap(HMACHeaderRule.Algorithm.init(rawValue:)) else {
                throw SwitchboardError(.badRequest, "hmac.algorithm must be sha256 or sha1")
            }
            rule.algorithm = parsed
        }
        if let encoding = value["encoding"] {
            guard let parsed = encoding.stringValue.flatMap(HMACHeaderRule.Encoding.init(rawValue:)) else {
                throw SwitchboardError(.badRequest, "hmac.encoding must be hex or base64")
            }
            rule.encoding = parsed
        }
        if let prefix = value["prefix"] {
            guard let text = prefix.stringValue else {
                throw SwitchboardError(.badRequest, "hmac.prefix must be a string")
            }
            rule.prefix = text
        }
        return rule
    }

    private static func strings(_ value: JSONValue) throws(SwitchboardError) -> [String] {
        guard case .array(let items) = value else {
            throw SwitchboardError(.badRequest, "secrets must be a list of strings")
        }
        return try items.map { item throws(SwitchboardError) in
            guard let text = item.stringValue else {
                throw SwitchboardError(.badRequest, "secrets must be a list of strings")
            }
            return text
        }
    }

    private static func field(_ value: JSONValue?, _ name: String) throws(SwitchboardError) -> InboundField? {
        guard let value, value != .null else { return nil }
        guard let text = value.stringValue else { throw SwitchboardError(.badRequest, "\(name) must be a string") }
        return try InboundField(text)
    }

    private static func eventType(_ value: JSONValue) throws(SwitchboardError) -> EventType {
        guard let text = value.stringValue else { throw SwitchboardError(.badRequest, "defaultType must be a string") }
        return try EventType(text)
    }

    private static func integer(_ value: JSONValue?, _ name: String) throws(SwitchboardError) -> Int? {
        guard let value else { return nil }
        guard let number = value.intValue, let int = Int(exactly: number) else {
            throw SwitchboardError(.badRequest, "\(name) must be an integer")
        }
        return int
    }
}

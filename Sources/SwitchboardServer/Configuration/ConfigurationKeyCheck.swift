public import SwitchboardCore

/// Refuses configuration keys nothing reads, in the JSON file and in `SWITCHBOARD_…` environment
/// variables, so that a misspelled key (`namespace.chat.publik`) or settings for a namespace missing
/// from `namespaces` stop the server instead of being silently ignored. Each refusal names the key and
/// the nearest key that would be read.
public struct ConfigurationKeyCheck: Sendable {
    /// Fields of `namespace.<name>.*`.
    public static let namespaceFields = [
        "retention_count", "retention_seconds", "public", "client_publish", "presence", "personal", "mailbox_bytes",
        "mailbox_events",
    ]
    /// Fields of `source.<name>.*`.
    public static let sourceFields = [
        "verify", "secrets", "channel", "type_from", "default_type", "id_from", "max_body_bytes", "tolerance_seconds",
        "hmac_header", "hmac_algorithm", "hmac_encoding", "hmac_prefix",
    ]
    /// `SWITCHBOARD_…` variables that are not server settings but are read by the tools around it (the
    /// CLI's key and URL, a receiver's webhook secret or public key in the documented examples).
    public static let otherVariables: Set<String> = [
        "SWITCHBOARD_API_KEY", "SWITCHBOARD_URL", "SWITCHBOARD_WEBHOOK_SECRET", "SWITCHBOARD_WEBHOOK_PUBLIC_KEY",
        "SWITCHBOARD_BIN",
    ]

    /// Every key that is read, given the configured namespace and source names.
    public let knownKeys: [String]

    /// A check for a configuration with these `namespaces` (besides `default`), inbound `sources` and
    /// Pusher apps named by `pusher.apps`.
    public init(namespaces: [String], sources: [String], pusherApps: [String] = []) {
        let fixed = ServerConfiguration.keys.filter {
            $0.contains(".") || ["dev", "namespaces", "sources"].contains($0)
        }
        var keys = fixed
        for name in ["default"] + namespaces {
            keys += Self.namespaceFields.map { "namespace.\(name).\($0)" }
        }
        for name in sources {
            keys += Self.sourceFields.map { "source.\(name).\($0)" }
        }
        for id in pusherApps {
            keys += ServerConfiguration.pusherAppFields.map { "pusher.app.\(id).\($0)" }
        }
        self.knownKeys = keys
    }

    /// Refuses the first key of `file` (the parsed JSON file) that is not read.
    public func check(file: JSONValue) throws(ConfigurationError) {
        let known = Set(knownKeys)
        for key in Self.flatten(file) where !known.contains(key) {
            throw refusal(key, shown: key, in: "the configuration file")
        }
    }

    /// Refuses the first `SWITCHBOARD_…` variable of `environment` that names no key that is read.
    public func check(environment: [String: String]) throws(ConfigurationError) {
        var byVariable: [String: String] = [:]
        for key in knownKeys { byVariable[Self.variable(for: key)] = key }
        for name in environment.keys.sorted() where name.hasPrefix("SWITCHBOARD_") {
            guard byVariable[name] == nil, !Self.otherVariables.contains(name) else { continue }
            let asKey = name.dropFirst("SWITCHBOARD_".count).lowercased()
            throw refusal(String(asKey), shown: name, in: "the environment", variables: byVariable)
        }
    }

    /// The environment variable of `key`: `SWITCHBOARD_` and the key in upper case, every character
    /// other than a letter or digit turned into `_`.
    public static func variable(for key: String) -> String {
        "SWITCHBOARD_"
            + String(key.uppercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
    }

    /// The dotted keys of a JSON object: nested objects are walked, anything else is a value.
    static func flatten(_ value: JSONValue, prefix: String = "") -> [String] {
        guard case .object(let members) = value else { return prefix.isEmpty ? [] : [prefix] }
        var keys: [String] = []
        for (name, member) in members {
            let key = prefix.isEmpty ? name : prefix + "." + name
            if case .object = member {
                keys += flatten(member, prefix: key)
            } else {
                keys.append(key)
            }
        }
        return keys
    }

    private func refusal(_ key: String, shown: String, in place: String, variables: [String: String]? = nil)
        -> ConfigurationError
    {
        var message = "in \(place) is not a setting"
        if variables != nil {
            // A variable of a namespace or source that is not listed cannot be told from a typo by its
            // name alone (names may hold `_`): say what both would need.
            for (prefix, fields, list) in [
                ("namespace_", Self.namespaceFields, "namespaces"), ("source_", Self.sourceFields, "sources"),
            ] where key.hasPrefix(prefix) && fields.contains(where: { key.hasSuffix("_" + $0) }) {
                message += " (is its name listed in \(list)?)"
                return ConfigurationError(key: shown, message: message)
            }
        }
        let parts = key.split(separator: ".", omittingEmptySubsequences: false)
        if variables == nil, parts.count == 3, ["namespace", "source"].contains(parts[0]) {
            let list = parts[0] == "namespace" ? "namespaces" : "sources"
            let fields = parts[0] == "namespace" ? Self.namespaceFields : Self.sourceFields
            let isKnownField = fields.contains(String(parts[2]))
            if isKnownField, !knownKeys.contains(key) {
                message += " (\(parts[1]) is not listed in \(list): add it there)"
                return ConfigurationError(key: shown, message: message)
            }
        }
        let candidates = variables.map { Array($0.keys) } ?? knownKeys
        if let nearest = Self.nearest(to: shown, in: candidates) {
            message += "; did you mean \(nearest)?"
        }
        return ConfigurationError(key: shown, message: message)
    }

    /// The candidate closest to `text` by edit distance, when close enough to be a likely typo.
    static func nearest(to text: String, in candidates: [String]) -> String? {
        let target = Array(text.lowercased().utf8)
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(target, Array(candidate.lowercased().utf8))
            if let current = best,
                current.distance < distance || (current.distance == distance && current.candidate <= candidate)
            {
                continue
            }
            best = (candidate, distance)
        }
        guard let best, best.distance <= max(2, target.count / 3) else { return nil }
        return best.candidate
    }

    /// Levenshtein distance.
    static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

import Configuration
import SwitchboardCore

extension ServerConfiguration {
    /// The inbound sources of the configuration: `sources` names them, and `source.<name>.*` holds each
    /// one's `verify`, `secrets`, `channel`, `type_from`, `default_type`, `id_from`, `max_body_bytes`,
    /// `tolerance_seconds` and, for `verify: hmac`, `hmac_header`, `hmac_algorithm`, `hmac_encoding`,
    /// `hmac_prefix`. Each is checked as `POST /v1/sources` checks a body.
    static func inboundSources(_ reader: ConfigReader) throws(ConfigurationError) -> [InboundSource] {
        var sources: [InboundSource] = []
        for name in reader.stringArray(forKey: "sources", default: []) where !name.isEmpty {
            let scope = "source.\(name)"
            var members: [(String, JSONValue)] = [("name", .string(name))]
            func text(_ key: String, as field: String) {
                if let value = reader.string(forKey: ConfigKey("\(scope).\(key)")) {
                    members.append((field, .string(value)))
                }
            }
            func number(_ key: String, as field: String) throws(ConfigurationError) {
                guard reader.string(forKey: ConfigKey("\(scope).\(key)")) != nil else { return }
                let value = try ranged(reader, "\(scope).\(key)", default: 0, 0...Int(Int32.max))
                members.append((field, .int(Int64(value))))
            }
            text("verify", as: "verify")
            text("channel", as: "channel")
            text("type_from", as: "typeFrom")
            text("default_type", as: "defaultType")
            text("id_from", as: "idFrom")
            try number("max_body_bytes", as: "maxBodyBytes")
            try number("tolerance_seconds", as: "toleranceSeconds")
            let secrets = reader.stringArray(forKey: ConfigKey("\(scope).secrets"), isSecret: true, default: [])
            if !secrets.isEmpty { members.append(("secrets", .array(secrets.map { .string($0) }))) }
            if let header = reader.string(forKey: ConfigKey("\(scope).hmac_header")) {
                var rule: [(String, JSONValue)] = [("header", .string(header))]
                for key in ["algorithm", "encoding", "prefix"] {
                    if let value = reader.string(forKey: ConfigKey("\(scope).hmac_\(key)")) {
                        rule.append((key, .string(value)))
                    }
                }
                members.append(("hmac", .object(rule)))
            }
            do {
                sources.append(try InboundSource(json: .object(members)))
            } catch {
                throw ConfigurationError(key: scope, message: "is not a valid source: \(error.detail)")
            }
        }
        return sources
    }
}

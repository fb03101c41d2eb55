import Configuration
import SwitchboardCore
import SwitchboardEngine

extension ServerConfiguration {
    /// Fields of `pusher.app.<id>.*`.
    public static let pusherAppFields = ["key", "secret", "client_events"]

    /// The Pusher apps: one from `pusher.app_id`, `pusher.key` and `pusher.secret` (also
    /// `SWITCHBOARD_PUSHER_APP_ID`, `…_KEY`, `…_SECRET`), and any more named by `pusher.apps`, each with
    /// `pusher.app.<id>.key` and `pusher.app.<id>.secret`; `pusher.client_events` and
    /// `pusher.app.<id>.client_events` let clients send `client-` events. None: the Pusher endpoints are
    /// off.
    static func pusherApps(_ reader: ConfigReader) throws(ConfigurationError) -> PusherApps {
        func value(_ key: String, isSecret: Bool = false) -> String? {
            reader.string(forKey: ConfigKey(key), isSecret: isSecret).flatMap { $0.isEmpty ? nil : $0 }
        }
        func app(id: String, key: String, secret: String, scope: String) throws(ConfigurationError) -> PusherApp {
            let clientEvents: Bool
            switch value("\(scope).client_events") {
            case nil, "false": clientEvents = false
            case "true": clientEvents = true
            default: throw ConfigurationError(key: "\(scope).client_events", message: "must be true or false")
            }
            do {
                return try PusherApp(id: id, key: key, secret: secret, clientEvents: clientEvents)
            } catch {
                let field =
                    error.field == "app_id"
                    ? (scope == "pusher" ? "pusher.app_id" : "pusher.apps") : "\(scope).\(error.field)"
                throw ConfigurationError(key: field, message: error.message)
            }
        }
        var apps: [PusherApp] = []
        switch (value("pusher.app_id"), value("pusher.key"), value("pusher.secret", isSecret: true)) {
        case (nil, nil, nil):
            break
        case (let id?, let key?, let secret?):
            apps.append(try app(id: id, key: key, secret: secret, scope: "pusher"))
        default:
            throw ConfigurationError(
                key: "pusher.app_id",
                message: "pusher.app_id, pusher.key and pusher.secret go together"
            )
        }
        for id in reader.stringArray(forKey: "pusher.apps", default: []) where !id.isEmpty {
            let scope = "pusher.app.\(id)"
            guard let key = value("\(scope).key"), let secret = value("\(scope).secret", isSecret: true) else {
                throw ConfigurationError(key: scope, message: "needs \(scope).key and \(scope).secret")
            }
            apps.append(try app(id: id, key: key, secret: secret, scope: scope))
        }
        do {
            return try PusherApps(apps)
        } catch {
            throw ConfigurationError(key: "pusher.\(error.field)", message: error.message)
        }
    }
}

extension ServerConfiguration {
    /// The engine's configuration with what the Pusher apps need of it: their keys, which sign the
    /// webhooks of endpoints with Pusher signing, and occupancy journaled while any app is configured.
    var engineWithPusherApps: EngineConfiguration {
        var engine = engine
        engine.webhooks.pusherApps = Dictionary(
            pusherApps.all.map { ($0.id, PusherAppKey(key: $0.key, secret: $0.secretBytes)) },
            uniquingKeysWith: { first, _ in first }
        )
        engine.journalsOccupancy = engine.journalsOccupancy || pusherApps.isEnabled
        return engine
    }
}

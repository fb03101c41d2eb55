/// A Pusher application Switchboard speaks the Pusher protocol for: the id in the HTTP API's paths
/// (`/apps/{id}/…`), the public key clients connect with (`/app/{key}`), and the secret that signs
/// channel authorisations, API requests and webhooks. Configured by `pusher.*` (docs/pusher.md).
public struct PusherApp: Sendable, Equatable {
    /// The app's id: 1–64 of `A–Z a–z 0–9 _ -`.
    public let id: String
    /// The public key: 1–64 of `A–Z a–z 0–9 _ -`.
    public let key: String
    /// The signing secret, at least `minimumSecretBytes` long.
    public let secret: String
    /// Whether clients may send `client-` events on the private and presence channels they hold (off
    /// by default, as on Pusher).
    public let clientEvents: Bool

    /// The shortest secret accepted (Pusher's own are 20 characters).
    public static let minimumSecretBytes = 16

    /// An app, or why its settings are refused.
    public init(id: String, key: String, secret: String, clientEvents: Bool = false) throws(PusherAppError) {
        guard Self.isToken(id) else { throw PusherAppError(field: "app_id", "must be 1–64 of A–Z a–z 0–9 _ -") }
        guard Self.isToken(key) else { throw PusherAppError(field: "key", "must be 1–64 of A–Z a–z 0–9 _ -") }
        guard secret.utf8.count >= Self.minimumSecretBytes else {
            throw PusherAppError(field: "secret", "must be at least \(Self.minimumSecretBytes) bytes")
        }
        self.id = id
        self.key = key
        self.secret = secret
        self.clientEvents = clientEvents
    }

    /// The secret's bytes, as the HMACs take them.
    public var secretBytes: [UInt8] { Array(secret.utf8) }

    private static func isToken(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count)
            && text.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                    true
                default: false
                }
            }
    }
}

/// Why a Pusher app's settings were refused: the field and a sentence.
public struct PusherAppError: Error, Sendable, Equatable {
    /// `app_id`, `key` or `secret`.
    public let field: String
    /// What the field must be.
    public let message: String

    init(field: String, _ message: String) {
        self.field = field
        self.message = message
    }
}

/// The configured Pusher apps, found by id (HTTP API) or by key (client connections). Empty: the
/// Pusher endpoints are off.
public struct PusherApps: Sendable, Equatable {
    /// Every app, in configuration order.
    public let all: [PusherApp]

    /// The apps; ids and keys must be unique.
    public init(_ apps: [PusherApp] = []) throws(PusherAppError) {
        var ids = Set<String>()
        var keys = Set<String>()
        for app in apps {
            guard ids.insert(app.id).inserted else {
                throw PusherAppError(field: "app_id", "\(app.id) is configured twice")
            }
            guard keys.insert(app.key).inserted else { throw PusherAppError(field: "key", "a key is configured twice") }
        }
        self.all = apps
    }

    /// No app: the Pusher endpoints are off.
    public static let none = PusherApps(validated: [])

    private init(validated apps: [PusherApp]) {
        self.all = apps
    }

    /// Whether any app is configured (the Pusher endpoints are served only then).
    public var isEnabled: Bool { !all.isEmpty }

    /// The app with this id.
    public func app(id: String) -> PusherApp? { all.first { $0.id == id } }

    /// The app with this public key.
    public func app(key: String) -> PusherApp? { all.first { $0.key == key } }
}

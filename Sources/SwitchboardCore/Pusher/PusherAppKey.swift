/// What signs a Pusher app's webhooks: the app's key (sent as `X-Pusher-Key`) and its secret.
public struct PusherAppKey: Hashable, Sendable, CustomStringConvertible {
    /// The app's public key.
    public let key: String
    /// The app's secret's bytes.
    public let secret: [UInt8]

    /// Makes one.
    public init(key: String, secret: [UInt8]) {
        self.key = key
        self.secret = secret
    }

    /// Never prints the secret.
    public var description: String { "PusherAppKey(\(key), …)" }
}

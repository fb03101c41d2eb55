/// What a namespace allows and keeps: history retention, anonymous access, client publishing,
/// presence, personal channels and per-connection flow-control limits.
public struct NamespacePolicy: Hashable, Sendable {
    /// Keep at most this many events per channel (nil: no count limit).
    public var retentionCount: Int?
    /// Keep events at most this many seconds (nil: no age limit).
    public var retentionSeconds: Int?
    /// Anonymous clients may subscribe.
    public var isPublic: Bool
    /// WebSocket clients may publish (with a token that allows it, or anonymously when public).
    public var allowsClientPublish: Bool
    /// Subscribers with a user id are members of the channel's presence: `join`/`leave` frames, the
    /// `presence` op, and durable `presence.join`/`presence.leave` events on `$presence:<channel>`.
    public var hasPresence: Bool
    /// `<namespace>:<user>` is readable (and, with client publishing, writable) by the client token whose
    /// `sub` is `<user>`, without the token listing it.
    public var isPersonal: Bool
    /// Largest unsent data per connection, in bytes, before it is closed as a slow consumer.
    public var mailboxBytes: Int
    /// Largest number of unsent events per connection before it is closed as a slow consumer.
    public var mailboxEvents: Int

    /// Makes a policy; the defaults are PROTOCOL.md's.
    public init(
        retentionCount: Int? = 10_000,
        retentionSeconds: Int? = 86_400,
        isPublic: Bool = false,
        allowsClientPublish: Bool = false,
        hasPresence: Bool = false,
        isPersonal: Bool = false,
        mailboxBytes: Int = 4 * 1024 * 1024,
        mailboxEvents: Int = 10_000
    ) {
        self.retentionCount = retentionCount
        self.retentionSeconds = retentionSeconds
        self.isPublic = isPublic
        self.allowsClientPublish = allowsClientPublish
        self.hasPresence = hasPresence
        self.isPersonal = isPersonal
        self.mailboxBytes = mailboxBytes
        self.mailboxEvents = mailboxEvents
    }
}

/// The policies of all namespaces: named ones, and a default for the rest.
public struct NamespacePolicies: Hashable, Sendable {
    /// The policy for namespaces not named.
    public var defaultPolicy: NamespacePolicy
    /// Policies by namespace name.
    public var named: [String: NamespacePolicy]

    /// Makes the set.
    public init(defaultPolicy: NamespacePolicy = NamespacePolicy(), named: [String: NamespacePolicy] = [:]) {
        self.defaultPolicy = defaultPolicy
        self.named = named
    }

    /// The policy that applies to `channel`.
    public func policy(for channel: ChannelName) -> NamespacePolicy {
        named[channel.namespace] ?? defaultPolicy
    }

    /// Whether `channel` keeps presence: its namespace has it, and it is not a server-written `$` channel.
    public func keepsPresence(_ channel: ChannelName) -> Bool {
        !channel.isServerWritten && policy(for: channel).hasPresence
    }

    /// Throws `bad_request` unless `channel` keeps presence (the `presence` op, the HTTP list).
    public func requirePresence(_ channel: ChannelName) throws(SwitchboardError) {
        guard keepsPresence(channel) else {
            throw SwitchboardError(.badRequest, "presence is not enabled for namespace \(channel.namespace)")
        }
    }
}

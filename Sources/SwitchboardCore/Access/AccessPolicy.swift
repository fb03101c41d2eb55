/// Decides whether a principal may subscribe to or publish on a channel, given namespace policies.
public struct AccessPolicy: Hashable, Sendable {
    /// Namespace settings (public, client publish).
    public var namespaces: NamespacePolicies
    /// Development mode: anyone may subscribe and publish (except on server-written channels).
    public var isDevelopmentMode: Bool

    /// Makes a policy.
    public init(namespaces: NamespacePolicies, isDevelopmentMode: Bool) {
        self.namespaces = namespaces
        self.isDevelopmentMode = isDevelopmentMode
    }

    /// Throws `unauthorized` or `forbidden` unless `principal` may read `channel`.
    public func authorizeSubscribe(_ principal: Principal, to channel: ChannelName) throws(SwitchboardError) {
        if isDevelopmentMode || principal.isAdmin { return }
        if namespaces.policy(for: channel).isPublic { return }
        if principal.subscribePatterns.contains(where: { $0.matches(channel.rawValue) }) { return }
        if principal.isAnonymous {
            throw SwitchboardError(.unauthorized, "credentials are required to read \(channel)")
        }
        throw SwitchboardError(.forbidden, "these credentials may not read \(channel)")
    }

    /// Throws unless `principal` may publish to `channel` over the HTTP API.
    public func authorizeAPIPublish(_ principal: Principal, to channel: ChannelName) throws(SwitchboardError) {
        try refuseServerWritten(channel)
        if isDevelopmentMode || principal.isAdmin { return }
        if principal.publishPatterns.contains(where: { $0.matches(channel.rawValue) }) { return }
        if principal.isAnonymous { throw SwitchboardError(.unauthorized, "an API key is required to publish") }
        throw SwitchboardError(.forbidden, "this key may not publish to \(channel)")
    }

    /// Throws unless a real-time client may publish to `channel` (the namespace must allow client publishing).
    public func authorizeClientPublish(_ principal: Principal, to channel: ChannelName) throws(SwitchboardError) {
        try refuseServerWritten(channel)
        if isDevelopmentMode || principal.isAdmin { return }
        let policy = namespaces.policy(for: channel)
        guard policy.allowsClientPublish else {
            throw SwitchboardError(.forbidden, "clients may not publish in namespace \(channel.namespace)")
        }
        if principal.publishPatterns.contains(where: { $0.matches(channel.rawValue) }) { return }
        if principal.isAnonymous && policy.isPublic { return }
        throw SwitchboardError(.forbidden, "these credentials may not publish to \(channel)")
    }

    private func refuseServerWritten(_ channel: ChannelName) throws(SwitchboardError) {
        if channel.isServerWritten {
            throw SwitchboardError(.forbidden, "\(channel) is written by the server only")
        }
    }
}

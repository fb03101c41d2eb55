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
    ///
    /// `$presence:<channel>` is readable by whoever may read `<channel>`; a personal namespace's
    /// `<namespace>:<user>` by the token whose `sub` is `<user>`.
    public func authorizeSubscribe(_ principal: Principal, to channel: ChannelName) throws(SwitchboardError) {
        if isDevelopmentMode || principal.isAdmin { return }
        if principal.subscribePatterns.contains(where: { $0.matches(channel.rawValue) }) { return }
        if let subject = channel.presenceSubject {
            return try authorizeSubscribe(principal, to: subject)
        }
        if !channel.isServerWritten {
            let policy = namespaces.policy(for: channel)
            if policy.isPublic || isOwnPersonalChannel(channel, of: principal, policy: policy) { return }
        }
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
        if isOwnPersonalChannel(channel, of: principal, policy: policy) { return }
        throw SwitchboardError(.forbidden, "these credentials may not publish to \(channel)")
    }

    /// Whether `channel` is `<namespace>:<sub>` of a personal namespace and `principal`'s user is `<sub>`.
    private func isOwnPersonalChannel(_ channel: ChannelName, of principal: Principal, policy: NamespacePolicy)
        -> Bool
    {
        guard policy.isPersonal, let user = principal.user, let owner = channel.afterNamespace else { return false }
        return owner == user
    }

    private func refuseServerWritten(_ channel: ChannelName) throws(SwitchboardError) {
        if channel.isServerWritten {
            throw SwitchboardError(.forbidden, "\(channel) is written by the server only")
        }
    }
}

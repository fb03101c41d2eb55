public import SwitchboardCore

/// Told by the Hub when a local reader of a channel (a subscriber or a long-poll waiter) registers or
/// leaves, so that what the Hub is fed can follow what is read: `ClusterFollower`, when several nodes
/// share the store. Called outside the Hub's lock, so calls from different threads may arrive in
/// either order; an implementation counts them.
public protocol ChannelInterest: Sendable {
    /// A reader of `channel` registered.
    func retain(_ channel: ChannelName)
    /// A reader of `channel` left.
    func release(_ channel: ChannelName)
    /// Returns once the events of `channel` committed from now on reach the Hub; a reader awaits it
    /// after registering and before reading the log.
    func anchored(_ channel: ChannelName) async
}

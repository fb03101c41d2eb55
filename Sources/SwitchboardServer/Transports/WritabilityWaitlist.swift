import SwitchboardCore

/// The channels of one connection whose next catch-up page waits until its socket is writable again
/// (see `ChannelCatchUp`): each at most once, in the order they started waiting.
struct WritabilityWaitlist {
    private var channels: [ChannelName] = []

    /// `channel` waits for writability.
    mutating func wait(_ channel: ChannelName) {
        if !channels.contains(channel) { channels.append(channel) }
    }

    /// `channel` no longer waits (its subscription ended).
    mutating func remove(_ channel: ChannelName) {
        channels.removeAll { $0 == channel }
    }

    /// The channels to continue now that the socket is writable, in order; the list is then empty.
    mutating func takeAll() -> [ChannelName] {
        defer { channels.removeAll() }
        return channels
    }
}

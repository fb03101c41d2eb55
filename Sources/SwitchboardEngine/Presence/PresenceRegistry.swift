import NIOConcurrencyHelpers
public import SwitchboardCore

/// Who is present in which channel, on this server. A user with several connections is one member
/// (shown with the connection it joined with first): `join` goes out when a user's first connection
/// arrives and `leave` when its last one goes, to the other members' connections, and each is also
/// journaled as a durable event on `$presence:<channel>`.
public final class PresenceRegistry: Sendable {
    private struct UserPresence {
        var sequence: Int
        var connections: [(member: PresenceMember, watcher: any PresenceWatcher)]
    }

    private struct ChannelPresence {
        var users: [String: UserPresence] = [:]

        /// Adds the connection; the other members' watchers when this is the user's first connection.
        mutating func join(_ member: PresenceMember, watcher: any PresenceWatcher, sequence: Int)
            -> [any PresenceWatcher]?
        {
            if let existing = users[member.user] {
                guard !existing.connections.contains(where: { $0.member.client == member.client }) else { return nil }
                users[member.user]?.connections.append((member, watcher))
                return nil
            }
            let others = users.values.flatMap { $0.connections.map(\.watcher) }
            users[member.user] = UserPresence(sequence: sequence, connections: [(member, watcher)])
            return others
        }
    }

    private struct State {
        var channels: [ChannelName: ChannelPresence] = [:]
        var sequence = 0
    }

    private let state = NIOLockedValueBox(State())
    private let journal: PresenceJournal

    init(journal: PresenceJournal) {
        self.journal = journal
    }

    /// Adds `member`'s connection to `channel`'s presence.
    public func join(_ channel: ChannelName, member: PresenceMember, watcher: any PresenceWatcher) {
        let others = state.withLockedValue { state -> [any PresenceWatcher]? in
            state.sequence += 1
            let sequence = state.sequence
            return state.channels[channel, default: ChannelPresence()].join(
                member,
                watcher: watcher,
                sequence: sequence
            )
        }
        guard let others else { return }
        let frame = member.frame("join", channel: channel)
        for watcher in others { watcher.presenceChanged(frame) }
        journal.record("presence.join", member: member, channel: channel)
    }

    /// Removes connection `client` of `user` from `channel`'s presence.
    public func leave(_ channel: ChannelName, client: String, user: String) {
        let change = state.withLockedValue { state -> (PresenceMember, [any PresenceWatcher])? in
            // Edited in place: no copy of the channel's members per leave.
            guard
                let index = state.channels[channel]?.users[user]?.connections.firstIndex(where: {
                    $0.member.client == client
                }),
                let member = state.channels[channel]?.users[user]?.connections.remove(at: index).member
            else { return nil }
            guard state.channels[channel]?.users[user]?.connections.isEmpty == true else { return nil }
            state.channels[channel]?.users[user] = nil
            let others = state.channels[channel]?.users.values.flatMap { $0.connections.map(\.watcher) } ?? []
            if state.channels[channel]?.users.isEmpty == true { state.channels[channel] = nil }
            return (member, others)
        }
        guard let (member, others) = change else { return }
        let frame = member.frame("leave", channel: channel)
        for watcher in others { watcher.presenceChanged(frame) }
        journal.record("presence.leave", member: member, channel: channel)
    }

    /// The members of `channel`, one per user, in the order they joined.
    public func members(of channel: ChannelName) -> [PresenceMember] {
        state.withLockedValue { state in
            guard let presence = state.channels[channel] else { return [] }
            return presence.users.values.sorted { $0.sequence < $1.sequence }.compactMap {
                $0.connections.first?.member
            }
        }
    }

    /// `{"op":"presence","channel":…,"members":[…]}` (with `ref` when given), or the HTTP body without `op`.
    public func membersJSON(of channel: ChannelName, op: Bool, ref: JSONValue? = nil) -> String {
        let members = members(of: channel).map(\.json).joined(separator: ",")
        var out = "{"
        if op { out += "\"op\":\"presence\"," }
        out += "\"channel\":\(JSONWriter.quoted(channel.rawValue)),\"members\":[\(members)]"
        if let ref { out += ",\"ref\":\(ref.jsonText)" }
        return out + "}"
    }
}

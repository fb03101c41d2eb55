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
            var presence = state.channels[channel] ?? ChannelPresence()
            defer { state.channels[channel] = presence }
            if var user = presence.users[member.user] {
                guard !user.connections.contains(where: { $0.member.client == member.client }) else { return nil }
                user.connections.append((member, watcher))
                presence.users[member.user] = user
                return nil
            }
            let others = presence.users.values.flatMap { $0.connections.map(\.watcher) }
            presence.users[member.user] = UserPresence(sequence: state.sequence, connections: [(member, watcher)])
            return others
        }
        guard let others else { return }
        let frame = member.frame("join", channel: channel)
        for watcher in others { watcher.presenceChanged(frame) }
        journal.record("presence.join", member: member, channel: channel)
    }

    /// Removes connection `client` of `user` from `channel`'s presence.
    public func leave(_ channel: ChannelName, client: String, user: String) {
        let change = state.withLockedValue { state -> (PresenceMember, [any PresenceWatcher])? in
            guard var presence = state.channels[channel], var entry = presence.users[user],
                let index = entry.connections.firstIndex(where: { $0.member.client == client })
            else { return nil }
            let member = entry.connections.remove(at: index).member
            defer { state.channels[channel] = presence.users.isEmpty ? nil : presence }
            guard entry.connections.isEmpty else {
                presence.users[user] = entry
                return nil
            }
            presence.users[user] = nil
            return (member, presence.users.values.flatMap { $0.connections.map(\.watcher) })
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

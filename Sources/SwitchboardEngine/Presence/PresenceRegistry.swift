import NIOConcurrencyHelpers
public import SwitchboardCore
import SwitchboardStore

/// Who is present in which channel. A user with several connections is one member (shown with the
/// connection it joined with first): `join` goes out when a user's first connection arrives and `leave`
/// when its last one goes, to the other members' connections, and each is also journaled as a durable
/// event on `$presence:<channel>`.
///
/// Alone, a node decides this itself, in memory. On a store several nodes share (`ClusterPresence`),
/// the store decides it for every node at once, and the frames come back from the journal, so that a
/// user connected to two nodes is one member everywhere.
public final class PresenceRegistry: Sendable {
    /// The most members a listing returns.
    public static let maximumListed = 10_000

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

        /// The watchers of every user but `user`.
        func watchers(except user: String) -> [any PresenceWatcher] {
            users.filter { $0.key != user }.values.flatMap { $0.connections.map(\.watcher) }
        }
    }

    private struct State {
        var channels: [ChannelName: ChannelPresence] = [:]
        var sequence = 0
        var relays: [ChannelName: PresenceRelay] = [:]
    }

    private enum Mode {
        case alone(PresenceJournal)
        case shared(ClusterPresence, any SharedPresenceStore, Hub)
    }

    private let state: NIOLockedValueBox<State>
    private let mode: Mode

    /// A node alone: presence in memory, journaled through `journal`.
    init(journal: PresenceJournal) {
        self.state = NIOLockedValueBox(State())
        self.mode = .alone(journal)
    }

    private init(state: NIOLockedValueBox<State>, mode: Mode) {
        self.state = state
        self.mode = mode
    }

    /// A node sharing its store: presence in `store`, carried there by the cluster service `makeCluster`
    /// makes (handed this node's memberships, to join them again); frames from the journal through `hub`.
    static func shared(
        store: any SharedPresenceStore,
        hub: Hub,
        makeCluster: (@escaping @Sendable () -> [(ChannelName, PresenceMember)]) -> ClusterPresence
    ) -> (PresenceRegistry, ClusterPresence) {
        let state = NIOLockedValueBox(State())
        let cluster = makeCluster {
            state.withLockedValue { state in
                state.channels.flatMap { channel, presence in
                    presence.users.values.flatMap { $0.connections.map { (channel, $0.member) } }
                }
            }
        }
        return (PresenceRegistry(state: state, mode: .shared(cluster, store, hub)), cluster)
    }

    /// Adds `member`'s connection to `channel`'s presence.
    public func join(_ channel: ChannelName, member: PresenceMember, watcher: any PresenceWatcher) {
        let (others, relay) = state.withLockedValue { state -> ([any PresenceWatcher]?, PresenceRelay?) in
            state.sequence += 1
            let sequence = state.sequence
            var relay: PresenceRelay?
            if case .shared = mode, state.channels[channel] == nil {
                relay = PresenceRelay(
                    channel: channel,
                    route: { [weak self] in self?.route($0, op: $1, member: $2, user: $3) }
                )
                state.relays[channel] = relay
            }
            let others = state.channels[channel, default: ChannelPresence()].join(
                member,
                watcher: watcher,
                sequence: sequence
            )
            return (others, relay)
        }
        switch mode {
        case .alone(let journal):
            guard let others else { return }
            let frame = member.frame("join", channel: channel)
            for watcher in others { watcher.presenceChanged(frame) }
            journal.record("presence.join", member: member, channel: channel)
        case .shared(let cluster, _, let hub):
            if let relay { hub.subscribe(relay, to: channel.presenceJournal) }
            cluster.enqueue(.join(channel, member))
        }
    }

    /// Removes connection `client` of `user` from `channel`'s presence.
    public func leave(_ channel: ChannelName, client: String, user: String) {
        let change = state.withLockedValue {
            state -> (member: PresenceMember, others: [any PresenceWatcher], lastUser: Bool, relay: PresenceRelay?)? in
            // Edited in place: no copy of the channel's members per leave.
            guard
                let index = state.channels[channel]?.users[user]?.connections.firstIndex(where: {
                    $0.member.client == client
                }),
                let member = state.channels[channel]?.users[user]?.connections.remove(at: index).member
            else { return nil }
            guard state.channels[channel]?.users[user]?.connections.isEmpty == true else {
                return (member, [], false, nil)
            }
            state.channels[channel]?.users[user] = nil
            let others = state.channels[channel]?.watchers(except: user) ?? []
            var relay: PresenceRelay?
            if state.channels[channel]?.users.isEmpty == true {
                state.channels[channel] = nil
                relay = state.relays.removeValue(forKey: channel)
            }
            return (member, others, true, relay)
        }
        guard let change else { return }
        switch mode {
        case .alone(let journal):
            guard change.lastUser else { return }
            let frame = change.member.frame("leave", channel: channel)
            for watcher in change.others { watcher.presenceChanged(frame) }
            journal.record("presence.leave", member: change.member, channel: channel)
        case .shared(let cluster, _, let hub):
            cluster.enqueue(.leave(channel, client: client))
            if let relay = change.relay { hub.unsubscribe(relay, from: channel.presenceJournal) }
        }
    }

    /// Hands a journaled join or leave to this node's members of `channel` but `user`'s own connections.
    private func route(_ channel: ChannelName, op: String, member: String, user: String) {
        let watchers = state.withLockedValue { $0.channels[channel]?.watchers(except: user) ?? [] }
        guard !watchers.isEmpty else { return }
        let frame = PresenceMember.frame(op, channel: channel, memberJSON: member)
        for watcher in watchers { watcher.presenceChanged(frame) }
    }

    /// The members of `channel` (each `PresenceMember.json`), one per user, in the order they joined, at
    /// most `maximumListed`.
    public func members(of channel: ChannelName) async throws(SwitchboardError) -> [String] {
        switch mode {
        case .alone:
            return state.withLockedValue { state in
                guard let presence = state.channels[channel] else { return [] }
                return presence.users.values.sorted { $0.sequence < $1.sequence }.prefix(Self.maximumListed)
                    .compactMap { $0.connections.first?.member.json }
            }
        case .shared(_, let store, _):
            do {
                return try await store.members(of: channel, limit: Self.maximumListed)
            } catch {
                throw SwitchboardError(.unavailable, "the presence store cannot be read: try again")
            }
        }
    }

    /// `{"op":"presence","channel":…,"members":[…]}` (with `ref` when given), or the HTTP body without `op`.
    public func membersJSON(of channel: ChannelName, op: Bool, ref: JSONValue? = nil) async throws(SwitchboardError)
        -> String
    {
        let members = try await members(of: channel).joined(separator: ",")
        var out = "{"
        if op { out += "\"op\":\"presence\"," }
        out += "\"channel\":\(JSONWriter.quoted(channel.rawValue)),\"members\":[\(members)]"
        if let ref { out += ",\"ref\":\(ref.jsonText)" }
        return out + "}"
    }
}

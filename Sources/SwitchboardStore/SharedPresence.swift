public import SwitchboardCore

/// Presence kept in the store that several nodes share, so that a user connected to two nodes is one
/// member, and a dead node's members leave.
///
/// Every node names itself (a new name per start) and keeps its name alive with `heartbeat`; its
/// connections' memberships are rows under that name. The first connection of a user in a channel,
/// on any node, journals a `presence.join`; the last one's leave journals a `presence.leave`, each in
/// the transaction that decided it. `reapExpiredNodes` (any node; one at a time) makes the members of
/// nodes whose heartbeat ran out leave. `publishJournal` hands what was journaled to the log, in the
/// order it was decided, each entry under an event id of its own so that publishing twice stores once.
public protocol SharedPresenceStore: Sendable {
    /// Adds connection `client` of `user` to `channel`; `member` is its JSON (`PresenceMember.json`).
    func join(channel: ChannelName, client: String, user: String, member: String) async throws

    /// Removes connection `client` from `channel` (nothing when it is not there).
    func leave(channel: ChannelName, client: String) async throws

    /// The members of `channel`, one per user (the JSON of the connection it joined with first), in
    /// the order they joined, at most `limit`.
    func members(of channel: ChannelName, limit: Int) async throws -> [String]

    /// Keeps this node alive until `now + ttl`; false when it had expired and its members were reaped
    /// (the caller joins its connections again).
    func heartbeat(now: Timestamp, ttl: Duration) async throws -> Bool

    /// Makes the members of every node expired at `now` leave, when no other node is doing it; how many
    /// connections were removed.
    func reapExpiredNodes(now: Timestamp) async throws -> Int

    /// Removes all of this node's connections and its name: it is stopping.
    func retire() async throws

    /// Publishes journaled joins and leaves with `publish`, oldest first, one node at a time; an entry
    /// leaves the journal only once `publish` returned.
    func publishJournal(_ publish: ([EventDraft]) async throws -> Void) async throws
}

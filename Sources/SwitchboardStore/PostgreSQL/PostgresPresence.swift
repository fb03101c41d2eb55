import Logging
import NIOConcurrencyHelpers
import PostgresNIO
public import SwitchboardCore

/// `SharedPresenceStore` on PostgreSQL: one row per connection (under the node that holds it), one per
/// user present in a channel, and a journal of joins and leaves written by the functions of migration
/// 2 (`presence_join`, `presence_leave`), so that a join or a leave and its journal entry commit
/// together. Expiry is in the database's time (`DatabaseClock`).
public final class PostgresPresence: SharedPresenceStore {
    private let storage: PostgresStorage
    private let node: String
    private let clock: DatabaseClock
    /// Whether this node's name was written once: a heartbeat that finds it gone afterwards was reaped.
    private let registered = NIOLockedValueBox(false)

    /// The largest journal page published at once.
    static let journalPage = 500

    /// Uses `storage`, as `node` (the name this process's leases are held under).
    public init(storage: PostgresStorage, node: String, clock: DatabaseClock) {
        self.storage = storage
        self.node = node
        self.clock = clock
    }

    /// Adds the connection (`presence_join`); see `SharedPresenceStore.join`.
    public func join(channel: ChannelName, client: String, user: String, member: String) async throws {
        try await StoreDeadline.run("recording a presence join") {
            try await self.joinNow(channel: channel, client: client, user: user, member: member)
        }
    }

    private func joinNow(channel: ChannelName, client: String, user: String, member: String) async throws {
        try await storage.query(
            "SELECT presence_join(\(channel.rawValue), \(client), \(user), \(node), \(member))"
        )
    }

    /// Removes the connection (`presence_leave`); see `SharedPresenceStore.leave`.
    public func leave(channel: ChannelName, client: String) async throws {
        try await StoreDeadline.run("recording a presence leave") {
            try await self.leaveNow(channel: channel, client: client)
        }
    }

    private func leaveNow(channel: ChannelName, client: String) async throws {
        try await storage.query("SELECT presence_leave(\(channel.rawValue), \(client))")
    }

    /// One row per user, in the order of their epochs; see `SharedPresenceStore.members`.
    public func members(of channel: ChannelName, limit: Int) async throws -> [String] {
        try await StoreDeadline.run("listing presence") { try await self.membersNow(of: channel, limit: limit) }
    }

    private func membersNow(of channel: ChannelName, limit: Int) async throws -> [String] {
        let rows = try await storage.query(
            "SELECT member FROM presence_users WHERE channel = \(channel.rawValue) ORDER BY epoch LIMIT \(limit)"
        )
        var members: [String] = []
        for try await member in rows.decode(String.self) { members.append(member) }
        return members
    }

    /// Writes this node's expiry; see `SharedPresenceStore.heartbeat`.
    public func heartbeat(now: Timestamp, ttl: Duration) async throws -> Bool {
        try await StoreDeadline.run("a presence heartbeat") { try await self.heartbeatNow(now: now, ttl: ttl) }
    }

    private func heartbeatNow(now: Timestamp, ttl: Duration) async throws -> Bool {
        let expires = clock.databaseMilliseconds(at: now) + ttl.wholeMilliseconds
        let node = node
        let wasRegistered = registered.withLockedValue { $0 }
        let rows = try await storage.query(
            """
            INSERT INTO presence_nodes AS n (node, expires_ms) VALUES (\(node), \(expires))
            ON CONFLICT (node) DO UPDATE SET expires_ms = EXCLUDED.expires_ms
            RETURNING (n.xmax = 0)
            """
        )
        var inserted = false
        for try await value in rows.decode(Bool.self) { inserted = value }
        registered.withLockedValue { $0 = true }
        return !(inserted && wasRegistered)
    }

    /// Under the presence advisory lock, when free; see `SharedPresenceStore.reapExpiredNodes`.
    public func reapExpiredNodes(now: Timestamp) async throws -> Int {
        try await StoreDeadline.run("reaping presence") { try await self.reapNow(now: now) }
    }

    private func reapNow(now: Timestamp) async throws -> Int {
        let databaseMs = clock.databaseMilliseconds(at: now)
        let logger = storage.logger
        return try await storage.transaction { connection in
            guard try await AdvisoryLock.presence.tryTake(on: connection, logger: logger) else { return 0 }
            try await connection.query("DELETE FROM presence_nodes WHERE expires_ms <= \(databaseMs)", logger: logger)
            // Connections of nodes that are gone, including any written under a name reaped meanwhile.
            let rows = try await connection.query(
                """
                WITH gone AS (
                    SELECT m.channel, m.client FROM presence_members m
                    WHERE NOT EXISTS (SELECT 1 FROM presence_nodes n WHERE n.node = m.node)
                    ORDER BY m.channel, m.user_id, m.client
                )
                SELECT 1 FROM gone, LATERAL (SELECT presence_leave(gone.channel, gone.client)) AS left_
                """,
                logger: logger
            )
            var reaped = 0
            for try await _ in rows { reaped += 1 }
            return reaped
        }
    }

    /// Leaves for every connection of this node, then its name, in one transaction.
    public func retire() async throws {
        try await StoreDeadline.run("removing this node's presence") { try await self.retireNow() }
    }

    private func retireNow() async throws {
        let logger = storage.logger
        let node = node
        try await storage.transaction { connection in
            try await connection.query(
                """
                SELECT presence_leave(channel, client) FROM (
                    SELECT channel, client FROM presence_members WHERE node = \(node)
                    ORDER BY channel, user_id, client
                ) AS mine
                """,
                logger: logger
            )
            try await connection.query("DELETE FROM presence_nodes WHERE node = \(node)", logger: logger)
        }
    }

    /// Pages of the journal under the presence advisory lock; see `SharedPresenceStore.publishJournal`.
    public func publishJournal(_ publish: ([EventDraft]) async throws -> Void) async throws {
        let logger = storage.logger
        while true {
            let published = try await storage.transaction { connection in
                // One node at a time, waiting its turn: a leave is never published before its join.
                try await connection.query("SELECT pg_advisory_xact_lock(\(AdvisoryLock.presence.key))", logger: logger)
                let rows = try await connection.query(
                    """
                    SELECT id, channel, type, member, event_id FROM presence_journal
                    ORDER BY id LIMIT \(Self.journalPage)
                    """,
                    logger: logger
                )
                var ids: [Int64] = []
                var drafts: [EventDraft] = []
                for try await (id, channel, type, member, eventID) in rows.decode(
                    (Int64, String, String, String, String).self
                ) {
                    ids.append(id)
                    // Written by the functions above from checked values; a row that does not parse is
                    // dropped rather than blocking the journal.
                    guard let channel = try? ChannelName(channel), let type = try? EventType(type) else { continue }
                    drafts.append(Self.draft(channel: channel, type: type, member: member, eventID: eventID))
                }
                guard !ids.isEmpty else { return 0 }
                if !drafts.isEmpty { try await publish(drafts) }
                try await connection.query("DELETE FROM presence_journal WHERE id = ANY(\(ids))", logger: logger)
                return ids.count
            }
            if published < Self.journalPage { return }
        }
    }

    /// The event a journal entry becomes: a join or leave on the channel's `$presence:` journal; for an
    /// `$occupancy:` channel (its nodes' shared occupant, see the engine's `SharedOccupancy`), the first
    /// join is `channel.occupied` and the last leave `channel.vacated` on that channel itself.
    static func draft(channel: ChannelName, type: EventType, member: String, eventID: String) -> EventDraft {
        guard channel.occupancySubject != nil else {
            return EventDraft(
                channel: channel.presenceJournal,
                type: type,
                data: member,
                idempotencyKey: EventID(stored: eventID)
            )
        }
        return EventDraft(
            channel: channel,
            type: type.rawValue == "presence.join" ? PusherWebhook.occupiedType : PusherWebhook.vacatedType,
            data: "{}",
            idempotencyKey: EventID(stored: eventID)
        )
    }
}

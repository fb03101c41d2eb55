import SwitchboardCore
import SwitchboardStore
import SwitchboardTestSupport
import Testing

/// Presence shared by two nodes on one PostgreSQL database: each test opens two stores (two nodes) on
/// the same database, and publishes the journal into the real log, where members read it.
@Suite(
    "PostgreSQL: presence shared by two nodes",
    .enabled(if: StoreBackend.underTest.contains(.postgres)),
    .timeLimit(.minutes(5))
)
struct PostgresPresenceTests {
    private static let ttl = Duration.seconds(30)
    private let channel: ChannelName
    private let journal: ChannelName

    init() throws {
        channel = try ChannelName("chat:room")
        journal = channel.presenceJournal
    }

    private func twoNodes(
        _ body: (StoreFixture, any SharedPresenceStore, StoreFixture, any SharedPresenceStore) async throws -> Void
    ) async throws {
        let clock = TestClock()
        try await StoreLocation.withTemporary(.postgres) { location in
            try await StoreFixture.open(at: location, clock: clock) { first in
                try await StoreFixture.open(at: location, clock: clock) { second in
                    let a = try #require(first.sharedPresence)
                    let b = try #require(second.sharedPresence)
                    #expect(try await a.heartbeat(now: clock.now, ttl: Self.ttl))
                    #expect(try await b.heartbeat(now: clock.now, ttl: Self.ttl))
                    try await body(first, a, second, b)
                }
            }
        }
    }

    private func member(_ client: String, _ user: String) -> String {
        #"{"client":"\#(client)","user":"\#(user)","info":null}"#
    }

    /// Publishes the journal through `node`'s log and returns the whole `$presence:` channel as
    /// `(type, user, id)`.
    private func publishAndRead(_ presence: any SharedPresenceStore, _ node: StoreFixture) async throws
        -> [(type: String, user: String, id: String)]
    {
        try await presence.publishJournal { drafts in _ = try await node.log.append(drafts) }
        let page = try await node.log.read(channel: journal, after: 0, limit: 1000)
        return page.events.map { event in
            let user = (try? JSONParser.parse(event.data))?["user"]?.stringValue ?? "?"
            return (event.type.rawValue, user, event.id.rawValue)
        }
    }

    /// The id a leave gets when it ends the join with id `joinID`.
    private func leaveID(endingJoin joinID: String) -> String {
        "evp_leave_" + joinID.dropFirst("evp_join_".count)
    }

    private func users(_ members: [String]) -> [String] {
        members.compactMap { (try? JSONParser.parse($0))?["user"]?.stringValue }
    }

    @Test("A user connected to both nodes is one member: one join, and one leave when the last connection goes")
    func oneMemberAcrossNodes() async throws {
        try await twoNodes { first, a, second, b in
            try await a.join(channel: channel, client: "cl_1", user: "ada", member: member("cl_1", "ada"))
            try await b.join(channel: channel, client: "cl_2", user: "ada", member: member("cl_2", "ada"))
            try await b.join(channel: channel, client: "cl_3", user: "bob", member: member("cl_3", "bob"))
            #expect(users(try await a.members(of: channel, limit: 100)) == ["ada", "bob"])
            #expect(try await b.members(of: channel, limit: 100) == [member("cl_1", "ada"), member("cl_3", "bob")])
            #expect(try await a.members(of: channel, limit: 1).count == 1)

            try await a.leave(channel: channel, client: "cl_1")
            // Ada stays, now shown with the connection she has left.
            #expect(try await b.members(of: channel, limit: 100) == [member("cl_2", "ada"), member("cl_3", "bob")])
            var entries = try await publishAndRead(a, first)
            #expect(entries.map(\.type) == ["presence.join", "presence.join"])
            #expect(entries.map(\.user) == ["ada", "bob"])

            try await b.leave(channel: channel, client: "cl_2")
            try await b.leave(channel: channel, client: "cl_2")
            #expect(users(try await a.members(of: channel, limit: 100)) == ["bob"])
            entries = try await publishAndRead(b, second)
            #expect(entries.map(\.type) == ["presence.join", "presence.join", "presence.leave"])
            // The leave carries the id of the join it ends.
            #expect(entries[2].id == leaveID(endingJoin: entries[0].id))
        }
    }

    @Test("One user joining and leaving on both nodes at once: the journal alternates join and leave")
    func concurrentJoinsAndLeaves() async throws {
        try await twoNodes { first, a, _, b in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (node, client) in [(a, "cl_a"), (b, "cl_b")] {
                    group.addTask {
                        for _ in 0..<40 {
                            try await node.join(
                                channel: channel,
                                client: client,
                                user: "ada",
                                member: member(client, "ada")
                            )
                            try await node.leave(channel: channel, client: client)
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await a.members(of: channel, limit: 100).isEmpty)
            let entries = try await publishAndRead(a, first)
            #expect(!entries.isEmpty)
            for (index, entry) in entries.enumerated() {
                #expect(entry.type == (index.isMultiple(of: 2) ? "presence.join" : "presence.leave"), "entry \(index)")
                if !index.isMultiple(of: 2) {
                    #expect(entry.id == leaveID(endingJoin: entries[index - 1].id))
                }
            }
            #expect(entries.count.isMultiple(of: 2))
        }
    }

    @Test("A node whose heartbeat ran out is reaped once, even by two nodes reaping at once; then it is told")
    func reapingAnExpiredNode() async throws {
        try await twoNodes { first, a, second, b in
            try await a.join(channel: channel, client: "cl_1", user: "ada", member: member("cl_1", "ada"))
            try await a.join(channel: channel, client: "cl_2", user: "bob", member: member("cl_2", "bob"))
            try await b.join(channel: channel, client: "cl_3", user: "bob", member: member("cl_3", "bob"))
            // Nothing expired yet.
            #expect(try await b.reapExpiredNodes(now: first.clock.now) == 0)

            first.clock.advance(seconds: 31)
            #expect(try await b.heartbeat(now: first.clock.now, ttl: Self.ttl))
            async let byA = a.reapExpiredNodes(now: first.clock.now)
            async let byB = b.reapExpiredNodes(now: first.clock.now)
            let reaped = try await (byA, byB)
            #expect(reaped.0 + reaped.1 == 2)
            #expect(try await b.reapExpiredNodes(now: first.clock.now) == 0)
            #expect(try await b.members(of: channel, limit: 100) == [member("cl_3", "bob")])

            let entries = try await publishAndRead(b, second)
            #expect(entries.map(\.type) == ["presence.join", "presence.join", "presence.leave"])
            #expect(entries.map(\.user) == ["ada", "bob", "ada"])

            // The reaped node learns it at its next heartbeat, and may then join again.
            #expect(try await a.heartbeat(now: first.clock.now, ttl: Self.ttl) == false)
            #expect(try await a.heartbeat(now: first.clock.now, ttl: Self.ttl))
            try await a.join(channel: channel, client: "cl_1", user: "ada", member: member("cl_1", "ada"))
            #expect(users(try await b.members(of: channel, limit: 100)) == ["bob", "ada"])
        }
    }

    @Test("A node that retires takes its connections with it; a journal entry published twice is stored once")
    func retireAndFailedPublish() async throws {
        try await twoNodes { first, a, second, b in
            try await a.join(channel: channel, client: "cl_1", user: "ada", member: member("cl_1", "ada"))
            try await b.join(channel: channel, client: "cl_2", user: "bob", member: member("cl_2", "bob"))
            try await a.retire()
            #expect(users(try await b.members(of: channel, limit: 100)) == ["bob"])

            // A node that appended the entries but failed before taking them off the journal (as one
            // that crashed then would): the entries stay, are published again, and are stored once.
            struct Refused: Error {}
            await #expect(throws: (any Error).self) {
                try await b.publishJournal { drafts in
                    _ = try await second.log.append(drafts)
                    throw Refused()
                }
            }
            let entries = try await publishAndRead(a, first)
            #expect(entries.map(\.type) == ["presence.join", "presence.join", "presence.leave"])
            #expect(entries.map(\.user) == ["ada", "bob", "ada"])
        }
    }
}

import SwitchboardCore
import SwitchboardStore
import SwitchboardTestSupport
import Testing

/// Several nodes on one PostgreSQL database: each test opens two stores (two nodes, each with its own
/// connection pool, writer and lease name) on the same database and checks what must hold between
/// them. Runs whenever PostgreSQL is under test (always under CI).
@Suite(
    "PostgreSQL: two nodes on one database",
    .enabled(if: StoreBackend.underTest.contains(.postgres)),
    .timeLimit(.minutes(5))
)
struct PostgresNodesTests {
    private static let lease = Duration.seconds(30)

    private func twoNodes(_ body: (StoreFixture, StoreFixture) async throws -> Void) async throws {
        let clock = TestClock()
        try await StoreLocation.withTemporary(.postgres) { location in
            try await StoreFixture.open(at: location, clock: clock) { first in
                try await StoreFixture.open(at: location, clock: clock) { second in
                    try await body(first, second)
                }
            }
        }
    }

    private func claimAll(_ node: StoreFixture) async throws -> [ClaimedDelivery] {
        try await node.deliveries.claim(now: node.clock.now, limit: 100, lease: Self.lease, skipping: []) { _ in true }
    }

    @Test("Both nodes appending to the same channels at once: offsets 1…n with no gap, each event once")
    func concurrentAppendsFromTwoNodes() async throws {
        let channels = try ["orders", "chat:room", "user:1"].map { try ChannelName($0) }
        try await twoNodes { first, second in
            let receipts = try await withThrowingTaskGroup(of: [AppendReceipt].self) { group in
                for task in 0..<16 {
                    let node = task.isMultiple(of: 2) ? first : second
                    group.addTask {
                        var receipts: [AppendReceipt] = []
                        for index in 0..<15 {
                            let channel = channels[(task + index) % channels.count]
                            receipts += try await node.log.append([
                                try .test(channel.rawValue, data: #"{"task":\#(task),"index":\#(index)}"#)
                            ]).receipts
                        }
                        return receipts
                    }
                }
                return try await group.reduce(into: [AppendReceipt]()) { $0 += $1 }
            }
            #expect(receipts.count == 240)
            #expect(Set(receipts.map(\.id)).count == 240)
            for channel in channels {
                let mine = receipts.filter { $0.channel == channel }.map(\.offset).sorted()
                #expect(mine == Array(1...Int64(mine.count)), "\(channel)")
                let page = try await second.log.read(channel: channel, after: 0, limit: 1000)
                #expect(page.events.map(\.offset) == mine, "\(channel)")
                #expect(try await first.log.head(of: channel) == Int64(mine.count))
            }
        }
    }

    @Test("The same idempotency key sent to both nodes at once is stored once, and both get its receipt")
    func idempotencyAcrossNodes() async throws {
        try await twoNodes { first, second in
            for round in 0..<10 {
                let draft = try EventDraft.test("orders", key: "order-\(round)")
                async let fromFirst = first.log.append([draft])
                async let fromSecond = second.log.append([draft])
                let (a, b) = try await (fromFirst, fromSecond)
                #expect(a.receipts.map(\.offset) == b.receipts.map(\.offset))
                #expect(a.receipts.map(\.id) == b.receipts.map(\.id))
                #expect(a.appended.count + b.appended.count == 1)
            }
            #expect(try await first.log.head(of: try ChannelName("orders")) == 10)
        }
    }

    @Test(
        "One key sent to both nodes at once for two channels: one stores it, the other is told it belongs to the other channel"
    )
    func keyClashAcrossNodes() async throws {
        try await twoNodes { first, second in
            for round in 0..<10 {
                async let fromFirst = outcome(of: first.log, try EventDraft.test("orders", key: "k-\(round)"))
                async let fromSecond = outcome(of: second.log, try EventDraft.test("invoices", key: "k-\(round)"))
                let outcomes = try await [fromFirst, fromSecond]
                #expect(outcomes.filter { $0 == "stored" }.count == 1, "\(outcomes)")
                #expect(outcomes.filter { $0 == "conflict" }.count == 1, "\(outcomes)")
            }
        }
    }

    /// "stored", or the error code the append was refused with.
    private func outcome(of log: any EventLog, _ draft: EventDraft) async throws -> String {
        do {
            _ = try await log.append([draft])
            return "stored"
        } catch let error as SwitchboardError {
            return error.code == .conflict ? "conflict" : "\(error.code)"
        }
    }

    @Test("Two nodes claiming at once get different deliveries, and all of them between them")
    func claimsAreDisjoint() async throws {
        try await twoNodes { first, second in
            try await first.adminStore.insertEndpoint(try Endpoint.test("ep_d", at: first.clock.now))
            _ = try await first.log.append(try (0..<30).map { _ in try EventDraft.test("orders") })
            async let fromFirst = claimAll(first)
            async let fromSecond = claimAll(second)
            let (a, b) = try await (fromFirst, fromSecond)
            #expect(Set(a.map(\.id)).isDisjoint(with: Set(b.map(\.id))))
            #expect(a.count + b.count == 30)
            #expect(try await claimAll(first).isEmpty)
            #expect(try await claimAll(second).isEmpty)
        }
    }

    @Test("After a lease runs out on a dead node, another node completes the delivery; the late result is dropped")
    func onlyTheLeaseHolderRecords() async throws {
        try await twoNodes { first, second in
            try await first.adminStore.insertEndpoint(try Endpoint.test("ep_l", at: first.clock.now))
            _ = try await first.log.append([try .test("orders")])
            let taken = try await claimAll(first)
            try #require(taken.count == 1)
            #expect(try await claimAll(second).isEmpty)
            first.clock.advance(seconds: 31)
            let takenOver = try await claimAll(second)
            #expect(takenOver.map(\.id) == taken.map(\.id))
            let now = first.clock.now
            // The first node wakes up and reports: its lease is gone, so nothing of it is kept.
            _ = try await first.deliveries.record(
                [AttemptResult.test(taken[0], status: .succeeded, at: now)],
                now: now
            )
            #expect(try await first.deliveries.delivery(id: taken[0].id)?.attempts.isEmpty == true)
            _ = try await second.deliveries.record(
                [AttemptResult.test(takenOver[0], status: .failed, at: now, next: now)],
                now: now
            )
            let record = try #require(try await first.deliveries.delivery(id: taken[0].id))
            #expect(record.status == .failed)
            #expect(record.attempts.map(\.status) == [500])
        }
    }

    @Test("Nodes whose clocks disagree by an hour agree on when a lease ends: the database's clock decides")
    func leasesOnTheDatabaseClock() async throws {
        let ahead = TestClock()
        let behind = TestClock(start: Timestamp(millisecondsSinceEpoch: ahead.now.millisecondsSinceEpoch - 3_600_000))
        try await StoreLocation.withTemporary(.postgres) { location in
            try await StoreFixture.open(at: location, clock: behind) { slow in
                try await StoreFixture.open(at: location, clock: ahead) { fast in
                    try await slow.adminStore.insertEndpoint(try Endpoint.test("ep_c", at: slow.clock.now))
                    _ = try await slow.log.append([try .test("orders")])
                    // The node an hour behind leases for 30 s: by its own clock the lease ended long
                    // ago for the node an hour ahead, which must still not take the delivery.
                    let taken = try await claimAll(slow)
                    try #require(taken.count == 1)
                    #expect(try await claimAll(fast).isEmpty)
                    // Each node still sees the lease end 30 s after it began by its own clock.
                    fast.clock.advance(seconds: 31)
                    #expect(try await claimAll(fast).map(\.id) == taken.map(\.id))
                }
            }
        }
    }

    @Test("An ordered endpoint stays ordered across nodes: the next offset waits for the one in flight elsewhere")
    func orderedAcrossNodes() async throws {
        try await twoNodes { first, second in
            try await first.adminStore.insertEndpoint(try Endpoint.test("ep_o", ordered: true, at: first.clock.now))
            _ = try await first.log.append([try .test("orders"), try .test("orders")])
            let one = try await claimAll(first)
            #expect(one.compactMap(\.event?.offset) == [1])
            #expect(try await claimAll(second).isEmpty)
            let now = first.clock.now
            _ = try await first.deliveries.record(
                [AttemptResult.test(one[0], status: .succeeded, at: now)],
                now: now
            )
            #expect(try await claimAll(second).compactMap(\.event?.offset) == [2])
        }
    }
}

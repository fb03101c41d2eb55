import SwitchboardCore
import SwitchboardStore
import SwitchboardTestSupport
import Testing

/// The `EventLog` contract, run against every backend: a new implementation passes this suite unchanged.
@Suite("EventLog conformance")
struct EventLogConformanceTests {
    // MARK: Offsets and group commit

    @Test(
        "Offsets are 1, 2, 3, … per channel without gaps or duplicates under many concurrent appends",
        arguments: StoreBackend.underTest
    )
    func offsetsAreGapFreeUnderConcurrentAppends(backend: StoreBackend) async throws {
        let channels = try ["orders", "chat:room-1", "user:17"].map { name throws(SwitchboardError) in
            try ChannelName(name)
        }
        try await StoreFixture.with(backend) { store in
            // 50 tasks × 20 single-event appends, spread over 3 channels.
            let receiptsPerTask = try await withThrowingTaskGroup(of: [AppendReceipt].self) { group in
                for task in 0..<50 {
                    group.addTask {
                        var receipts: [AppendReceipt] = []
                        for index in 0..<20 {
                            let draft = try EventDraft.test(
                                channels[(task + index) % 3].rawValue,
                                data: #"{"task":\#(task),"index":\#(index)}"#
                            )
                            receipts += try await store.log.append([draft]).receipts
                        }
                        return receipts
                    }
                }
                return try await group.reduce(into: [[AppendReceipt]]()) { $0.append($1) }
            }
            let receipts = receiptsPerTask.flatMap { $0 }
            #expect(receipts.count == 1000)
            #expect(receipts.allSatisfy { !$0.wasReplayed })
            #expect(Set(receipts.map(\.id)).count == 1000)
            for channel in channels {
                let mine = receipts.filter { $0.channel == channel }
                let offsets = mine.map(\.offset).sorted()
                #expect(offsets == Array(1...Int64(mine.count)), "\(channel)")
                let stored = try await readAll(store.log, channel)
                #expect(stored.map(\.offset) == offsets, "\(channel)")
                #expect(Set(stored.map(\.id)) == Set(mine.map(\.id)), "\(channel)")
                #expect(try await store.log.head(of: channel) == Int64(mine.count))
            }
            // One caller's appends to a channel are committed in the order it made them.
            for taskReceipts in receiptsPerTask {
                for channel in channels {
                    let offsets = taskReceipts.filter { $0.channel == channel }.map(\.offset)
                    #expect(offsets == offsets.sorted())
                }
            }
        }
    }

    @Test(
        "Concurrent batch appends all commit, and the commit observer sees every event once, each channel in offset order, before its append returns",
        arguments: StoreBackend.underTest
    )
    func concurrentAppendsCommitAndReachTheObserver(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            let outcomes = try await withThrowingTaskGroup(of: (AppendOutcome, Bool).self) { group in
                for task in 0..<100 {
                    group.addTask {
                        let outcome = try await store.log.append([
                            try EventDraft.test("orders", data: "\(task)"),
                            try EventDraft.test("chat:\(task % 4)", data: "\(task)"),
                            try EventDraft.test("orders", data: "\(task)"),
                        ])
                        let observed = Set(store.commits.events.map(\.id))
                        return (outcome, outcome.appended.allSatisfy { observed.contains($0.id) })
                    }
                }
                return try await group.reduce(into: [(AppendOutcome, Bool)]()) { $0.append($1) }
            }
            #expect(outcomes.count == 100)
            #expect(outcomes.allSatisfy { $0.1 }, "every appended event was observed before append returned")
            let appended = outcomes.flatMap { $0.0.appended }
            let observed = store.commits.events
            #expect(observed.count == 300)
            #expect(Set(observed) == Set(appended))
            for channel in Set(observed.map(\.channel)) {
                let offsets = observed.filter { $0.channel == channel }.map(\.offset)
                #expect(offsets == Array(1...Int64(offsets.count)), "\(channel)")
                #expect(try await readAll(store.log, channel) == observed.filter { $0.channel == channel })
            }
        }
    }

    @Test(
        "A stored event keeps the draft's channel, type and data, carries the commit time, and has a server-made evt_ id unless the publisher chose one",
        arguments: StoreBackend.underTest
    )
    func storedEventKeepsTheDraft(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            let outcome = try await store.log.append([
                try EventDraft.test("orders", type: "order.created", data: #"{"total":12.5,"items":[1,2]}"#),
                try EventDraft.test("orders", type: "order.paid", data: "null", key: "order-77-paid"),
            ])
            let events = try await readAll(store.log, try ChannelName("orders"))
            try #require(events.count == 2)
            #expect(events[0].id.rawValue.hasPrefix("evt_"))
            #expect(events[0].id.rawValue.count == 26)
            #expect(events[0].type == (try EventType("order.created")))
            #expect(events[0].data == #"{"total":12.5,"items":[1,2]}"#)
            #expect(events[0].time == store.clock.now)
            #expect(events[1].id.rawValue == "order-77-paid")
            #expect(events[1].data == "null")
            #expect(outcome.appended == events)
            #expect(
                outcome.receipts
                    == events.map {
                        AppendReceipt(
                            id: $0.id,
                            channel: $0.channel,
                            offset: $0.offset,
                            time: $0.time,
                            wasReplayed: false
                        )
                    }
            )
        }
    }

    @Test(
        "Receipts come back in draft order, and a batch over several channels numbers each channel on its own",
        arguments: StoreBackend.underTest
    )
    func receiptsFollowDraftOrder(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            let first = try await store.log.append(
                try ["orders", "chat:1", "orders", "user:1", "chat:1"].map { try EventDraft.test($0) }
            )
            #expect(first.receipts.map(\.channel.rawValue) == ["orders", "chat:1", "orders", "user:1", "chat:1"])
            #expect(first.receipts.map(\.offset) == [1, 1, 2, 1, 2])
            let second = try await store.log.append(try ["chat:1", "orders"].map { try EventDraft.test($0) })
            #expect(second.receipts.map(\.offset) == [3, 3])
        }
    }

    @Test(
        "A batch with one refused event stores nothing, uses no offsets, remembers no keys and tells the observer nothing",
        arguments: StoreBackend.underTest
    )
    func failedBatchStoresNothing(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            let orders = try ChannelName("orders")
            let chat = try ChannelName("chat:1")
            let before = try await store.log.append([try EventDraft.test("orders")])
            try await store.refuseEvents(ofType: try EventType("poison"))

            await #expect(throws: (any Error).self) {
                try await store.log.append([
                    try EventDraft.test("orders", key: "retry-me"),
                    try EventDraft.test("chat:1"),
                    try EventDraft.test("orders", type: "poison"),
                ])
            }
            #expect(try await store.log.head(of: orders) == 1)
            #expect(try await store.log.head(of: chat) == 0)
            #expect(try await readAll(store.log, orders) == before.appended)
            #expect(try await readAll(store.log, chat).isEmpty)
            #expect(store.commits.events == before.appended)

            let retried = try await store.log.append([
                try EventDraft.test("orders", key: "retry-me"), try EventDraft.test("chat:1"),
            ])
            #expect(retried.receipts.map(\.offset) == [2, 1])
            #expect(retried.receipts.allSatisfy { !$0.wasReplayed })
        }
    }

    @Test("An empty append stores nothing and returns no receipts", arguments: StoreBackend.underTest)
    func emptyAppend(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            let outcome = try await store.log.append([])
            #expect(outcome.receipts.isEmpty)
            #expect(outcome.appended.isEmpty)
            #expect(store.commits.events.isEmpty)
        }
    }

    // MARK: Idempotency

    @Test(
        "Publishing twice with the same idempotency key returns the original receipt, marked as replayed, and stores one event",
        arguments: StoreBackend.underTest
    )
    func sameKeyTwiceIsReplayed(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            let orders = try ChannelName("orders")
            let first = try await store.log.append([try EventDraft.test("orders", data: #"{"n":1}"#, key: "pay-1")])
            store.clock.advance(seconds: 60)
            let second = try await store.log.append([try EventDraft.test("orders", data: #"{"n":2}"#, key: "pay-1")])

            let original = try #require(first.receipts.first)
            #expect(!original.wasReplayed)
            #expect(
                second.receipts == [
                    AppendReceipt(
                        id: original.id,
                        channel: original.channel,
                        offset: original.offset,
                        time: original.time,
                        wasReplayed: true
                    )
                ]
            )
            #expect(second.appended.isEmpty)
            #expect(try await readAll(store.log, orders).map(\.data) == [#"{"n":1}"#])
            #expect(try await store.log.head(of: orders) == 1)
            #expect(store.commits.events == first.appended)
        }
    }

    @Test(
        "A key that belongs to an event on another channel fails only its own call, storing nothing",
        arguments: StoreBackend.underTest
    )
    func keyOnAnotherChannelConflicts(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            _ = try await store.log.append([try EventDraft.test("orders", data: "1", key: "k-1")])
            let log = store.log
            let clashing = [try EventDraft.test("chat", data: "2"), try EventDraft.test("chat", data: "3", key: "k-1")]
            let clash = Task { try await log.append(clashing) }
            let innocent = Task { try await log.append([try EventDraft.test("chat", data: "4")]) }
            await #expect {
                _ = try await clash.value
            } throws: { error in
                (error as? SwitchboardError)?.code == .conflict
            }
            #expect(try await innocent.value.receipts.map(\.offset) == [1])
            #expect(try await readAll(store.log, try ChannelName("chat")).map(\.data) == ["4"])
        }
    }

    @Test("The same idempotency key twice in one batch stores one event", arguments: StoreBackend.underTest)
    func sameKeyTwiceInOneBatch(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            let outcome = try await store.log.append([
                try EventDraft.test("orders", data: "1", key: "dup"),
                try EventDraft.test("orders", data: "2"),
                try EventDraft.test("orders", data: "3", key: "dup"),
            ])
            try #require(outcome.receipts.count == 3)
            #expect(outcome.receipts.map(\.offset) == [1, 2, 1])
            #expect(outcome.receipts.map(\.wasReplayed) == [false, false, true])
            #expect(outcome.receipts[2].id == outcome.receipts[0].id)
            #expect(outcome.appended.map(\.offset) == [1, 2])
            #expect(try await readAll(store.log, try ChannelName("orders")).map(\.data) == ["1", "2"])
        }
    }

    @Test(
        "Concurrent publishes with one idempotency key store one event and all get its receipt",
        arguments: StoreBackend.underTest
    )
    func sameKeyConcurrently(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            let receipts = try await withThrowingTaskGroup(of: AppendReceipt.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        let outcome = try await store.log.append([
                            try EventDraft.test("orders", data: "\(index)", key: "once")
                        ])
                        return try #require(outcome.receipts.first)
                    }
                }
                return try await group.reduce(into: [AppendReceipt]()) { $0.append($1) }
            }
            #expect(receipts.filter { !$0.wasReplayed }.count == 1)
            #expect(Set(receipts.map(\.offset)) == [1])
            #expect(Set(receipts.map(\.id.rawValue)) == ["once"])
            #expect(try await store.log.head(of: try ChannelName("orders")) == 1)
        }
    }

    @Test(
        "A retried publish within the idempotency window is replayed even after its event left retention",
        arguments: StoreBackend.underTest
    )
    func replayOutlivesRetention(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend, options: StoreOptions(idempotencyWindowSeconds: 3600)) { store in
            let orders = try ChannelName("orders")
            let original = try await store.log.append([try EventDraft.test("orders", key: "k")]).receipts
            _ = try await store.log.append([try EventDraft.test("orders"), try EventDraft.test("orders")])
            let keepOne = NamespacePolicies(defaultPolicy: NamespacePolicy(retentionCount: 1, retentionSeconds: nil))
            #expect(try await store.log.trim(policies: keepOne, now: store.clock.now) == 2)

            store.clock.advance(seconds: 600)
            let retried = try await store.log.append([try EventDraft.test("orders", key: "k")])
            #expect(retried.receipts.map(\.offset) == original.map(\.offset))
            #expect(retried.receipts.map(\.id) == original.map(\.id))
            #expect(retried.receipts.map(\.wasReplayed) == [true])
            #expect(try await store.log.head(of: orders) == 3)
        }
    }

    @Test(
        "Once the idempotency window has passed and the log was trimmed, the same key publishes a new event",
        arguments: StoreBackend.underTest
    )
    func keyExpiresAfterTheWindow(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend, options: StoreOptions(idempotencyWindowSeconds: 3600)) { store in
            _ = try await store.log.append([try EventDraft.test("orders", key: "k")])
            store.clock.advance(seconds: 3601)
            let noRetention = NamespacePolicies(
                defaultPolicy: NamespacePolicy(retentionCount: 0, retentionSeconds: nil)
            )
            #expect(try await store.log.trim(policies: noRetention, now: store.clock.now) == 1)

            let again = try await store.log.append([try EventDraft.test("orders", key: "k")])
            #expect(again.receipts.map(\.offset) == [2])
            #expect(again.receipts.map(\.wasReplayed) == [false])
            #expect(again.receipts.map(\.id.rawValue) == ["k"])
        }
    }

    @Test(
        "An inbound delivery key (whin_) outlives the publish window: remembered for 7 days, then forgotten",
        arguments: StoreBackend.underTest
    )
    func inboundKeysLastSevenDays(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend, options: StoreOptions(idempotencyWindowSeconds: 3600)) { store in
            let key = EventID.inboundPrefix + "github_abc"
            let original = try await store.log.append([try EventDraft.test("github", key: key)]).receipts
            _ = try await store.log.append([try EventDraft.test("github", key: "publish-key")])
            let noRetention = NamespacePolicies(
                defaultPolicy: NamespacePolicy(retentionCount: 0, retentionSeconds: nil)
            )

            store.clock.advance(seconds: 3 * 86_400)
            #expect(try await store.log.trim(policies: noRetention, now: store.clock.now) == 2)
            let redelivered = try await store.log.append([try EventDraft.test("github", key: key)]).receipts
            #expect(redelivered.map(\.wasReplayed) == [true])
            #expect(redelivered.map(\.offset) == original.map(\.offset))
            // The publish key's window (1 h) has long passed.
            let republished = try await store.log.append([try EventDraft.test("github", key: "publish-key")])
            #expect(republished.receipts.map(\.wasReplayed) == [false])

            store.clock.advance(seconds: 4 * 86_400 + 1)
            _ = try await store.log.trim(policies: noRetention, now: store.clock.now)
            let afterAWeek = try await store.log.append([try EventDraft.test("github", key: key)])
            #expect(afterAWeek.receipts.map(\.wasReplayed) == [false])
        }
    }

    @Test(
        "With an inbound window shorter than the publish window, each kind of key keeps its own",
        arguments: StoreBackend.underTest
    )
    func eachKeyKeepsItsWindow(backend: StoreBackend) async throws {
        let options = StoreOptions(idempotencyWindowSeconds: 2 * 86_400, inboundDeduplicationSeconds: 86_400)
        try await StoreFixture.with(backend, options: options) { store in
            let inboundKey = EventID.inboundPrefix + "github_abc"
            _ = try await store.log.append([try EventDraft.test("github", key: inboundKey)])
            _ = try await store.log.append([try EventDraft.test("github", key: "publish-key")])
            let noRetention = NamespacePolicies(
                defaultPolicy: NamespacePolicy(retentionCount: 0, retentionSeconds: nil)
            )
            store.clock.advance(seconds: 86_400 + 60)
            _ = try await store.log.trim(policies: noRetention, now: store.clock.now)
            let publishRetry = try await store.log.append([try EventDraft.test("github", key: "publish-key")])
            #expect(publishRetry.receipts.map(\.wasReplayed) == [true])
            let inboundRetry = try await store.log.append([try EventDraft.test("github", key: inboundKey)])
            #expect(inboundRetry.receipts.map(\.wasReplayed) == [false])
        }
    }

    // MARK: Reads

    @Test("Reading after offset 0 returns the channel from its first event", arguments: StoreBackend.underTest)
    func readFromTheBeginning(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            let orders = try ChannelName("orders")
            try await appendEvents(5, to: "orders", in: store.log)
            let page = try await store.log.read(channel: orders, after: 0, limit: 100)
            #expect(page.channel == orders)
            #expect(page.events.map(\.offset) == [1, 2, 3, 4, 5])
            #expect(page.next == 5)
            #expect(page.earliest == 1)
            #expect(!page.isTruncated)
        }
    }

    @Test(
        "A byte-bounded page stops before the event that would cross the bound, never below one event",
        arguments: StoreBackend.underTest
    )
    func byteBoundedPages(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            let big = try ChannelName("big")
            let text = "\"" + String(repeating: "x", count: 998) + "\""  // 1000 bytes of JSON each
            for _ in 1...10 { _ = try await store.log.append([try EventDraft.test("big", data: text)]) }
            let page = try await store.log.read(channel: big, after: 0, limit: 100, maximumBytes: 3500)
            #expect(page.events.map(\.offset) == [1, 2, 3, 4])
            #expect(!page.reachesHead)
            let one = try await store.log.read(channel: big, after: 4, limit: 100, maximumBytes: 10)
            #expect(one.events.map(\.offset) == [5])
            #expect(!one.reachesHead)
            let rest = try await store.log.read(channel: big, after: 5, limit: 100, maximumBytes: 1 << 20)
            #expect(rest.events.map(\.offset) == [6, 7, 8, 9, 10])
            #expect(rest.reachesHead)
            let counted = try await store.log.read(channel: big, after: 0, limit: 3, maximumBytes: 1 << 20)
            #expect(counted.events.map(\.offset) == [1, 2, 3] && !counted.reachesHead)
            let empty = try await store.log.read(channel: big, after: 10, limit: 3, maximumBytes: 10)
            #expect(empty.events.isEmpty && empty.reachesHead)
        }
    }

    @Test(
        "Paging with next visits every event once, then returns an empty page at the head",
        arguments: StoreBackend.underTest
    )
    func pagingWithNext(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            let orders = try ChannelName("orders")
            try await appendEvents(10, to: "orders", in: store.log)
            var pages: [[Int64]] = []
            var nexts: [Int64] = []
            var after: Int64 = 0
            while true {
                let page = try await store.log.read(channel: orders, after: after, limit: 3)
                #expect(!page.isTruncated)
                if page.events.isEmpty {
                    #expect(page.next == 10)
                    break
                }
                pages.append(page.events.map(\.offset))
                nexts.append(page.next)
                after = page.next
            }
            #expect(pages == [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10]])
            #expect(nexts == [3, 6, 9, 10])
        }
    }

    @Test("A channel never published to reads as empty, with head 0", arguments: StoreBackend.underTest)
    func unknownChannel(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            let nobody = try ChannelName("nobody:here")
            #expect(try await store.log.head(of: nobody) == 0)
            let page = try await store.log.read(channel: nobody, after: 0, limit: 10)
            #expect(page.events.isEmpty)
            #expect(page.next == 0)
            #expect(page.earliest == 1)
            #expect(!page.isTruncated)
        }
    }

    @Test(
        "Reading after an offset beyond the head is truncated and restarts from the earliest event",
        arguments: StoreBackend.underTest
    )
    func readBeyondTheHead(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            let orders = try ChannelName("orders")
            try await appendEvents(3, to: "orders", in: store.log)
            let page = try await store.log.read(channel: orders, after: 7, limit: 10)
            #expect(page.isTruncated)
            #expect(page.events.map(\.offset) == [1, 2, 3])
            #expect(page.next == 3)
            let nobody = try await store.log.read(channel: try ChannelName("nobody"), after: 5, limit: 10)
            #expect(nobody.isTruncated)
            #expect(nobody.events.isEmpty)
        }
    }

    @Test("head(of:) is the last assigned offset, also after a trim", arguments: StoreBackend.underTest)
    func headFollowsAppends(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            let orders = try ChannelName("orders")
            #expect(try await store.log.head(of: orders) == 0)
            try await appendEvents(4, to: "orders", in: store.log)
            #expect(try await store.log.head(of: orders) == 4)
            try await appendEvents(1, to: "chat:1", in: store.log)
            #expect(try await store.log.head(of: orders) == 4)
            let keepNone = NamespacePolicies(defaultPolicy: NamespacePolicy(retentionCount: 0, retentionSeconds: nil))
            _ = try await store.log.trim(policies: keepNone, now: store.clock.now)
            #expect(try await store.log.head(of: orders) == 4)
        }
    }

    @Test(
        "Channels by prefix whose newest event is of a type: only those, whatever the neighbours' names",
        arguments: StoreBackend.underTest
    )
    func channelsByPrefixAndLastType(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            let drafts = try [
                ("$occupancy:a", "channel.occupied"), ("$occupancy:a", "channel.vacated"),
                ("$occupancy:b", "channel.occupied"), ("$occupancy:c", "channel.vacated"),
                ("$occupancy:c", "channel.occupied"), ("$occupancy:b:c", "channel.occupied"),
                ("$occupancy", "channel.occupied"), ("$occupancz:x", "channel.occupied"),
                ("$occupancy=x", "channel.occupied"), ("$presence:b", "channel.occupied"),
                ("occupancy:b", "channel.occupied"),
            ].map { try EventDraft.test($0.0, type: $0.1) }
            _ = try await store.log.append(drafts)
            let occupied = try await store.log.channels(
                withPrefix: "$occupancy:",
                endingWith: try EventType("channel.occupied")
            )
            #expect(occupied.map(\.rawValue).sorted() == ["$occupancy:b", "$occupancy:b:c", "$occupancy:c"])
            let vacated = try await store.log.channels(
                withPrefix: "$occupancy:",
                endingWith: try EventType("channel.vacated")
            )
            #expect(vacated.map(\.rawValue) == ["$occupancy:a"])
            #expect(try await store.log.channels(withPrefix: "$none:", endingWith: try EventType("x")).isEmpty)
        }
    }

    // MARK: Retention

    /// A read of a 10-event channel trimmed to its last 4 events (7…10).
    struct RetainedRead: Sendable, CustomTestStringConvertible {
        let after: Int64
        let isTruncated: Bool
        let offsets: [Int64]
        var testDescription: String { "after \(after)" }
    }

    @Test(
        "After a trim by count, reads older than retention are truncated and resume at the earliest event; reads from 0 are not",
        arguments: StoreBackend.underTest,
        [
            RetainedRead(after: 0, isTruncated: false, offsets: [7, 8, 9, 10]),
            RetainedRead(after: 2, isTruncated: true, offsets: [7, 8, 9, 10]),
            RetainedRead(after: 5, isTruncated: true, offsets: [7, 8, 9, 10]),
            RetainedRead(after: 6, isTruncated: false, offsets: [7, 8, 9, 10]),
            RetainedRead(after: 8, isTruncated: false, offsets: [9, 10]),
            RetainedRead(after: 10, isTruncated: false, offsets: []),
        ]
    )
    func retentionByCount(backend: StoreBackend, read: RetainedRead) async throws {
        try await StoreFixture.with(backend) { store in
            let orders = try ChannelName("orders")
            try await appendEvents(10, to: "orders", in: store.log)
            let keepFour = NamespacePolicies(defaultPolicy: NamespacePolicy(retentionCount: 4, retentionSeconds: nil))
            #expect(try await store.log.trim(policies: keepFour, now: store.clock.now) == 6)
            let page = try await store.log.read(channel: orders, after: read.after, limit: 100)
            #expect(page.isTruncated == read.isTruncated)
            #expect(page.events.map(\.offset) == read.offsets)
            #expect(page.earliest == 7)
            #expect(page.next == 10)
        }
    }

    @Test(
        "Retention keeps an occupancy journal's newest event (the channel's state), whatever its age",
        arguments: StoreBackend.underTest
    )
    func retentionKeepsAnOccupancyJournalsState(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            _ = try await store.log.append(
                try [
                    EventDraft.test("$occupancy:room", type: "channel.occupied"),
                    EventDraft.test("$occupancy:room", type: "channel.vacated"),
                    EventDraft.test("$occupancy:room", type: "channel.occupied"),
                    EventDraft.test("room"),
                ]
            )
            let keepNone = NamespacePolicies(defaultPolicy: NamespacePolicy(retentionCount: 0, retentionSeconds: 1))
            store.clock.advance(seconds: 3600)
            #expect(try await store.log.trim(policies: keepNone, now: store.clock.now) == 3)
            let journal = try await store.log.read(channel: try ChannelName("$occupancy:room"), after: 0, limit: 10)
            #expect(journal.events.map(\.offset) == [3])
            #expect(
                try await store.log.channels(withPrefix: "$occupancy:", endingWith: try EventType("channel.occupied"))
                    .map(\.rawValue) == ["$occupancy:room"]
            )
            #expect(try await store.log.read(channel: try ChannelName("room"), after: 0, limit: 10).events.isEmpty)
        }
    }

    @Test(
        "A trim by age removes events older than the namespace's retention and moves the earliest offset",
        arguments: StoreBackend.underTest
    )
    func retentionByAge(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            let orders = try ChannelName("orders")
            try await appendEvents(3, to: "orders", in: store.log)
            store.clock.advance(seconds: 100)
            try await appendEvents(2, to: "orders", in: store.log)
            let fiftySeconds = NamespacePolicies(
                defaultPolicy: NamespacePolicy(retentionCount: nil, retentionSeconds: 50)
            )
            #expect(try await store.log.trim(policies: fiftySeconds, now: store.clock.now) == 3)

            let fromStart = try await store.log.read(channel: orders, after: 0, limit: 10)
            #expect(fromStart.events.map(\.offset) == [4, 5])
            #expect(fromStart.earliest == 4)
            #expect(!fromStart.isTruncated)
            let tooOld = try await store.log.read(channel: orders, after: 1, limit: 10)
            #expect(tooOld.isTruncated)
            #expect(tooOld.events.map(\.offset) == [4, 5])
            let justInTime = try await store.log.read(channel: orders, after: 3, limit: 10)
            #expect(!justInTime.isTruncated)
            #expect(justInTime.events.map(\.offset) == [4, 5])
        }
    }

    @Test(
        "A trim within retention removes nothing; a second trim finds nothing more to remove",
        arguments: StoreBackend.underTest
    )
    func trimWithinRetention(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            try await appendEvents(5, to: "orders", in: store.log)
            #expect(try await store.log.trim(policies: NamespacePolicies(), now: store.clock.now) == 0)
            let keepTwo = NamespacePolicies(defaultPolicy: NamespacePolicy(retentionCount: 2, retentionSeconds: nil))
            #expect(try await store.log.trim(policies: keepTwo, now: store.clock.now) == 3)
            #expect(try await store.log.trim(policies: keepTwo, now: store.clock.now) == 0)
            #expect(try await readAll(store.log, try ChannelName("orders")).map(\.offset) == [4, 5])
        }
    }

    @Test("A trim applies each namespace's own retention", arguments: StoreBackend.underTest)
    func trimPerNamespace(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            try await appendEvents(5, to: "chat:room-1", in: store.log)
            try await appendEvents(5, to: "orders", in: store.log)
            let policies = NamespacePolicies(
                defaultPolicy: NamespacePolicy(retentionCount: nil, retentionSeconds: nil),
                named: ["chat": NamespacePolicy(retentionCount: 2, retentionSeconds: nil)]
            )
            #expect(try await store.log.trim(policies: policies, now: store.clock.now) == 3)
            #expect(try await readAll(store.log, try ChannelName("chat:room-1")).map(\.offset) == [4, 5])
            #expect(try await readAll(store.log, try ChannelName("orders")).map(\.offset) == [1, 2, 3, 4, 5])
        }
    }

    @Test(
        "A channel whose events all left retention reads as empty and continues at head + 1",
        arguments: StoreBackend.underTest
    )
    func fullyTrimmedChannel(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            let orders = try ChannelName("orders")
            try await appendEvents(3, to: "orders", in: store.log)
            let keepNone = NamespacePolicies(defaultPolicy: NamespacePolicy(retentionCount: 0, retentionSeconds: nil))
            #expect(try await store.log.trim(policies: keepNone, now: store.clock.now) == 3)

            let fromStart = try await store.log.read(channel: orders, after: 0, limit: 10)
            #expect(fromStart.events.isEmpty)
            #expect(!fromStart.isTruncated)
            #expect(fromStart.earliest == 4)
            let upToDate = try await store.log.read(channel: orders, after: 3, limit: 10)
            #expect(!upToDate.isTruncated)
            #expect(upToDate.next == 3)
            #expect(try await store.log.read(channel: orders, after: 2, limit: 10).isTruncated)

            let next = try await store.log.append([try EventDraft.test("orders")])
            #expect(next.receipts.map(\.offset) == [4])
            #expect(try await store.log.read(channel: orders, after: 0, limit: 10).events.map(\.offset) == [4])
        }
    }

    // MARK: Durability and observation

    @Test(
        "Events, heads and idempotency keys survive closing and reopening the store",
        arguments: StoreBackend.underTest
    )
    func survivesReopening(backend: StoreBackend) async throws {
        try await StoreLocation.withTemporary(backend) { location in
            let clock = TestClock()
            let orders = try ChannelName("orders")
            let chat = try ChannelName("chat:1")
            let before = try await StoreFixture.open(at: location, clock: clock) { store in
                _ = try await store.log.append([
                    try EventDraft.test("orders", data: #"{"n":1}"#, key: "o-1"),
                    try EventDraft.test("chat:1", data: #""hello""#),
                    try EventDraft.test("orders", data: #"{"n":2}"#),
                ])
                return (try await readAll(store.log, orders), try await readAll(store.log, chat))
            }
            try await StoreFixture.open(at: location, clock: clock) { store in
                #expect(try await store.log.head(of: orders) == 2)
                #expect(try await store.log.head(of: chat) == 1)
                #expect(try await readAll(store.log, orders) == before.0)
                #expect(try await readAll(store.log, chat) == before.1)
                let after = try await store.log.append([
                    try EventDraft.test("orders", key: "o-1"), try EventDraft.test("orders"),
                ])
                #expect(after.receipts.map(\.offset) == [1, 3])
                #expect(after.receipts.map(\.wasReplayed) == [true, false])
            }
        }
    }

    @Test(
        "The commit observer receives newly stored events in commit order, replays excluded",
        arguments: StoreBackend.underTest
    )
    func observerSeesCommitOrder(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            let first = try await store.log.append([try EventDraft.test("orders"), try EventDraft.test("chat:1")])
            let second = try await store.log.append([try EventDraft.test("orders", key: "k")])
            let third = try await store.log.append([
                try EventDraft.test("orders", key: "k"), try EventDraft.test("user:1"), try EventDraft.test("orders"),
            ])
            #expect(third.appended.map(\.channel.rawValue) == ["user:1", "orders"])
            #expect(store.commits.events == first.appended + second.appended + third.appended)
        }
    }

    @Test(
        "A read that begins after an append was acknowledged sees it, however many reads overlap",
        arguments: StoreBackend.underTest
    )
    func readsSeeEveryAcknowledgedAppend(backend: StoreBackend) async throws {
        let channel = try ChannelName("orders")
        try await StoreFixture.with(backend) { store in
            let acknowledged = SharedValue<Int64>(0)
            let appending = SharedValue(true)
            // Readers overlap each other all the time, as catch-ups of many connections do; each read
            // must start from a view no older than the last acknowledged append.
            let stale = try await withThrowingTaskGroup(of: [String].self) { group in
                group.addTask {
                    defer { appending.set(false) }
                    for index in 1...300 {
                        let receipt = try await store.log.append([try EventDraft.test("orders", data: "\(index)")])
                        acknowledged.set(receipt.receipts[0].offset)
                    }
                    return []
                }
                for _ in 0..<6 {
                    group.addTask {
                        var stale: [String] = []
                        while appending.current {
                            let floor = acknowledged.current
                            let head = try await store.log.head(of: channel)
                            if head < floor { stale.append("head \(head) after \(floor) was acknowledged") }
                            let page = try await store.log.read(channel: channel, after: floor, limit: 10)
                            // A longer read, so that reads overlap.
                            _ = try await store.log.read(channel: channel, after: 0, limit: 1000)
                            if page.isTruncated { stale.append("read after \(floor) answered truncated") }
                        }
                        return stale
                    }
                }
                return try await group.reduce(into: [String]()) { $0 += $1 }
            }
            #expect(stale.isEmpty, "\(stale.prefix(5))")
        }
    }

    @Test("An open store reports itself ready", arguments: StoreBackend.underTest)
    func readiness(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            #expect(await store.log.checkReadiness())
        }
    }

    // MARK: Helpers

    private func appendEvents(_ count: Int, to channel: String, in log: any EventLog) async throws {
        for index in 1...count {
            _ = try await log.append([try EventDraft.test(channel, data: "\(index)")])
        }
    }

    private func readAll(_ log: any EventLog, _ channel: ChannelName) async throws -> [Event] {
        var events: [Event] = []
        var after: Int64 = 0
        while true {
            let page = try await log.read(channel: channel, after: after, limit: 250)
            if page.events.isEmpty { return events }
            events += page.events
            after = page.next
        }
    }
}

extension EventLogConformanceTests {
    @Test("An event is read back by its id with where it came from", arguments: StoreBackend.underTest)
    func storedEventWithOrigin(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            let origins: [EventOrigin] = [
                .api(key: "key_abc"), .api(key: nil), .client(user: "u:1"), .client(user: nil),
                .inbound(source: "github"), .server,
            ]
            let drafts = try origins.map { try EventDraft.test("orders", data: #"{"n":1}"#).published(by: $0) }
            let receipts = try await store.log.append(drafts).receipts
            for (receipt, origin) in zip(receipts, origins) {
                let stored = try #require(try await store.log.storedEvent(id: receipt.id))
                #expect(stored.origin == origin)
                #expect(stored.event.id == receipt.id)
                #expect(stored.event.channel == receipt.channel)
                #expect(stored.event.offset == receipt.offset)
                #expect(stored.event.data == #"{"n":1}"#)
                #expect(stored.event.type == (try EventType("test.event")))
            }
            #expect(try await store.log.storedEvent(id: EventID(stored: "evt_nothing")) == nil)
        }
    }
}

import SwitchboardCore
import SwitchboardStore
import SwitchboardTestSupport
import Testing

/// The `DeliveryQueue` contract, run against every backend: the outbox fills with the log, a delivery
/// is leased by one claim at a time, ordered endpoints go one offset at a time, and a retry makes a
/// delivery due at once.
@Suite("DeliveryQueue conformance")
struct DeliveryQueueConformanceTests {
    private static let lease = Duration.seconds(30)

    private func claimAll(_ store: StoreFixture) async throws -> [ClaimedDelivery] {
        try await store.deliveries.claim(now: store.clock.now, limit: 100, lease: Self.lease, skipping: []) { _ in true
        }
    }

    @Test(
        "An event on an endpoint's channel is one delivery, and a leased delivery is not claimed again",
        arguments: StoreBackend.underTest
    )
    func claimIsExclusive(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            try await store.adminStore.insertEndpoint(try Endpoint.test("ep_a", at: store.clock.now))
            let receipt = try await store.log.append([try .test("orders"), try .test("chat:1")]).receipts[0]
            let first = try await claimAll(store)
            #expect(first.map(\.endpointID) == ["ep_a"])
            #expect(first.first?.eventID == receipt.id.rawValue)
            #expect(first.first?.event?.offset == 1)
            #expect(first.first?.attemptsMade == 0)
            #expect(try await claimAll(store).isEmpty)
            #expect(try await store.deliveries.liveCount() == 1)
        }
    }

    @Test(
        "A lease that runs out (its worker died) makes the delivery claimable again, with the same id",
        arguments: StoreBackend.underTest
    )
    func leaseExpiry(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            try await store.adminStore.insertEndpoint(try Endpoint.test("ep_l", at: store.clock.now))
            _ = try await store.log.append([try .test("orders")])
            let first = try await claimAll(store)
            try #require(first.count == 1)
            store.clock.advance(seconds: 29)
            #expect(try await claimAll(store).isEmpty)
            store.clock.advance(seconds: 2)
            #expect(try await claimAll(store).map(\.id) == first.map(\.id))
        }
    }

    @Test(
        "An ordered endpoint is offered a channel's lowest live offset only, the next once it succeeded",
        arguments: StoreBackend.underTest
    )
    func orderedEndpoint(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            try await store.adminStore.insertEndpoint(try Endpoint.test("ep_o", ordered: true, at: store.clock.now))
            _ = try await store.log.append([try .test("orders"), try .test("orders"), try .test("orders")])
            let first = try await claimAll(store)
            #expect(first.compactMap(\.event?.offset) == [1])
            let now = store.clock.now
            _ = try await store.deliveries.record(
                try first.map { AttemptResult.test($0, status: .succeeded, at: now) },
                now: now
            )
            #expect(try await claimAll(store).compactMap(\.event?.offset) == [2])
        }
    }

    @Test(
        "A replay by offsets counts, then queues again, exactly the chosen range of one channel",
        arguments: StoreBackend.underTest
    )
    func replayOffsets(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            try await store.adminStore.insertEndpoint(try Endpoint.test("ep_o", at: store.clock.now))
            _ = try await store.log.append((1...4).map { _ in try EventDraft.test("orders") })
            let claimed = try await claimAll(store)
            try #require(claimed.count == 4)
            let now = store.clock.now
            _ = try await store.deliveries.record(
                claimed.map { AttemptResult.test($0, status: .succeeded, at: now) },
                now: now
            )
            let orders = try ChannelName("orders")
            let middle = ReplaySelection(range: .offsets(channel: orders, from: 2, through: 3), onlyFailed: false)
            #expect(try await store.deliveries.countReplayable(endpoint: "ep_o", selection: middle) == 2)
            let failedOnly = ReplaySelection(range: .offsets(channel: orders, from: 1, through: nil), onlyFailed: true)
            #expect(try await store.deliveries.countReplayable(endpoint: "ep_o", selection: failedOnly) == 0)
            let elsewhere = ReplaySelection(
                range: .offsets(channel: try ChannelName("other"), from: 1, through: nil),
                onlyFailed: false
            )
            #expect(try await store.deliveries.countReplayable(endpoint: "ep_o", selection: elsewhere) == 0)
            // Counting changed nothing.
            #expect(try await claimAll(store).isEmpty)
            #expect(try await store.deliveries.replay(endpoint: "ep_o", selection: middle, now: now) == 2)
            let again = try await claimAll(store)
            #expect(again.compactMap(\.event?.offset).sorted() == [2, 3])
            let open = ReplaySelection(range: .offsets(channel: orders, from: 3, through: nil), onlyFailed: false)
            #expect(try await store.deliveries.countReplayable(endpoint: "ep_o", selection: open) == 2)
        }
    }

    @Test("An event's deliveries are found by its id, oldest first", arguments: StoreBackend.underTest)
    func deliveriesOfOneEvent(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            try await store.adminStore.insertEndpoint(try Endpoint.test("ep_a", at: store.clock.now))
            try await store.adminStore.insertEndpoint(try Endpoint.test("ep_b", at: store.clock.now))
            let receipts = try await store.log.append([try .test("orders"), try .test("orders")]).receipts
            let first = receipts[0].id.rawValue
            let found = try await store.deliveries.deliveries(event: first, limit: 10)
            #expect(Set(found.map(\.endpointID)) == ["ep_a", "ep_b"])
            #expect(found.allSatisfy { $0.eventID == first && $0.offset == 1 })
            #expect(try await store.deliveries.deliveries(event: "evt_nothing", limit: 10).isEmpty)
            #expect(try await store.deliveries.deliveries(event: first, limit: 1).count == 1)
        }
    }

    @Test(
        "A failed delivery waits for its next attempt; retryNow makes it due at once",
        arguments: StoreBackend.underTest
    )
    func retryNow(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            try await store.adminStore.insertEndpoint(try Endpoint.test("ep_r", at: store.clock.now))
            _ = try await store.log.append([try .test("orders")])
            let claimed = try await claimAll(store)
            try #require(claimed.count == 1)
            let now = store.clock.now
            let later = Timestamp(millisecondsSinceEpoch: now.millisecondsSinceEpoch + 3_600_000)
            _ = try await store.deliveries.record(
                [AttemptResult.test(claimed[0], status: .failed, at: now, next: later)],
                now: now
            )
            #expect(try await claimAll(store).isEmpty)
            #expect(try await store.deliveries.nextDue(now: now) == later)
            let record = try #require(try await store.deliveries.retryNow(id: claimed[0].id, now: now))
            #expect(record.status == .failed)
            #expect(record.attempts.map(\.status) == [500])
            let again = try await claimAll(store)
            #expect(again.map(\.id) == [claimed[0].id])
            #expect(again.first?.attemptsMade == 1)
        }
    }

    @Test(
        "A replay queues a dead delivery again with a fresh schedule, and leaves a succeeded one alone",
        arguments: StoreBackend.underTest
    )
    func replay(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            try await store.adminStore.insertEndpoint(try Endpoint.test("ep_p", at: store.clock.now))
            let since = store.clock.now
            _ = try await store.log.append([try .test("orders"), try .test("orders")])
            let claimed = try await claimAll(store).sorted { ($0.event?.offset ?? 0) < ($1.event?.offset ?? 0) }
            try #require(claimed.count == 2)
            let now = store.clock.now
            _ = try await store.deliveries.record(
                [
                    AttemptResult.test(claimed[0], status: .dead, at: now),
                    AttemptResult.test(claimed[1], status: .succeeded, at: now),
                ],
                now: now
            )
            #expect(try await claimAll(store).isEmpty)
            let selection = ReplaySelection(range: .since(since), onlyFailed: true)
            #expect(try await store.deliveries.countReplayable(endpoint: "ep_p", selection: selection) == 1)
            #expect(try await store.deliveries.replay(endpoint: "ep_p", selection: selection, now: now) == 1)
            let again = try await claimAll(store)
            #expect(again.map(\.id) == [claimed[0].id])
            #expect(again.first?.attemptsMade == 1)
            #expect(again.first?.attemptsInRound == 0)
        }
    }

    @Test(
        "expedite makes an endpoint's waiting deliveries due now, and no other endpoint's",
        arguments: StoreBackend.underTest
    )
    func expedite(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            try await store.adminStore.insertEndpoint(try Endpoint.test("ep_x", at: store.clock.now))
            try await store.adminStore.insertEndpoint(try Endpoint.test("ep_y", at: store.clock.now))
            _ = try await store.log.append([try .test("orders")])
            let claimed = try await claimAll(store)
            try #require(claimed.count == 2)
            let now = store.clock.now
            let later = Timestamp(millisecondsSinceEpoch: now.millisecondsSinceEpoch + 3_600_000)
            _ = try await store.deliveries.record(
                claimed.map { AttemptResult.test($0, status: .failed, at: now, next: later) },
                now: now
            )
            try await store.deliveries.expedite(endpoint: "ep_x", now: now)
            #expect(try await claimAll(store).map(\.endpointID) == ["ep_x"])
        }
    }

    @Test(
        "enqueueDirect queues an event that is not in the log for one endpoint, with its data",
        arguments: StoreBackend.underTest
    )
    func enqueueDirect(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            try await store.adminStore.insertEndpoint(
                try Endpoint.test("ep_t", channels: "nothing", at: store.clock.now)
            )
            let event = Event(
                id: EventID(stored: "evt_direct"),
                channel: try ChannelName("$test"),
                offset: 0,
                type: try EventType("switchboard.test"),
                time: store.clock.now,
                data: #"{"hello":"endpoint"}"#
            )
            let id = try await store.deliveries.enqueueDirect(endpoint: "ep_t", event: event, now: store.clock.now)
            let claimed = try await claimAll(store)
            #expect(claimed.map(\.id) == [id])
            #expect(claimed.first?.event == event)
            #expect(try await store.log.head(of: try ChannelName("$test")) == 0)
        }
    }

    @Test(
        "trimFinished removes finished deliveries older than the cut, oldest first, up to the limit, and keeps live ones",
        arguments: StoreBackend.underTest
    )
    func trimFinished(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            try await store.adminStore.insertEndpoint(try Endpoint.test("ep_f", at: store.clock.now))
            _ = try await store.log.append([try .test("orders"), try .test("orders"), try .test("orders")])
            let claimed = try await claimAll(store).sorted { ($0.event?.offset ?? 0) < ($1.event?.offset ?? 0) }
            try #require(claimed.count == 3)
            let now = store.clock.now
            _ = try await store.deliveries.record(
                [
                    AttemptResult.test(claimed[0], status: .succeeded, at: now),
                    AttemptResult.test(claimed[1], status: .dead, at: now),
                ],
                now: now
            )
            store.clock.advance(seconds: 10)
            let cut = store.clock.now
            #expect(try await store.deliveries.trimFinished(before: cut, limit: 1) == 1)
            #expect(try await store.deliveries.delivery(id: claimed[0].id) == nil)
            #expect(try await store.deliveries.delivery(id: claimed[1].id)?.status == .dead)
            #expect(try await store.deliveries.trimFinished(before: cut, limit: 10) == 1)
            #expect(try await store.deliveries.delivery(id: claimed[2].id) != nil)
            #expect(try await store.deliveries.liveCount() == 1)
        }
    }

    @Test(
        "410 Gone disables the endpoint at once and record reports it; a success ends a failing streak",
        arguments: StoreBackend.underTest
    )
    func endpointHealth(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            try await store.adminStore.insertEndpoint(try Endpoint.test("ep_g", at: store.clock.now))
            try await store.adminStore.insertEndpoint(try Endpoint.test("ep_h", at: store.clock.now))
            _ = try await store.log.append([try .test("orders")])
            let claimed = try await claimAll(store).sorted { $0.endpointID < $1.endpointID }
            try #require(claimed.map(\.endpointID) == ["ep_g", "ep_h"])
            let now = store.clock.now
            let gone = AttemptResult(
                delivery: claimed[0],
                attempt: AttemptRecord(
                    number: 1,
                    time: now,
                    status: 410,
                    latencyMilliseconds: 2,
                    error: nil,
                    responseHeaders: [],
                    responseBody: "gone"
                ),
                status: .dead,
                nextAttempt: nil,
                disablesEndpoint: "the endpoint answered 410 Gone"
            )
            let later = Timestamp(millisecondsSinceEpoch: now.millisecondsSinceEpoch + 60_000)
            let disabled = try await store.deliveries.record(
                [gone, AttemptResult.test(claimed[1], status: .failed, at: now, next: later)],
                now: now
            )
            #expect(disabled.map(\.id) == ["ep_g"])
            #expect(try await store.adminStore.endpoint(id: "ep_g")?.isEnabled == false)
            #expect(try await store.adminStore.endpoint(id: "ep_h")?.failingSince == now)
            store.clock.advance(seconds: 60)
            let retried = try await claimAll(store)
            try #require(retried.map(\.endpointID) == ["ep_h"])
            _ = try await store.deliveries.record(
                [AttemptResult.test(retried[0], status: .succeeded, at: store.clock.now)],
                now: store.clock.now
            )
            #expect(try await store.adminStore.endpoint(id: "ep_h")?.failingSince == nil)
            #expect(try await store.deliveries.delivery(id: claimed[0].id)?.attempts.first?.responseBody == "gone")
        }
    }
}

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

    private func endpoint(_ id: String, channels: String = "orders", ordered: Bool = false, at time: Timestamp) throws
        -> Endpoint
    {
        var generator = RandomBitsGenerator.system
        return Endpoint(
            id: id,
            settings: EndpointSettings(
                url: "https://example.com/hooks",
                filter: try EndpointFilter(channels: [NamePattern(channels)], types: []),
                isOrdered: ordered
            ),
            signingKey: .hmac(WebhookSecret.random(using: &generator)),
            created: time,
            updated: time
        )
    }

    private func claimAll(_ store: StoreFixture) async throws -> [ClaimedDelivery] {
        try await store.deliveries.claim(now: store.clock.now, limit: 100, lease: Self.lease, skipping: []) { _ in true
        }
    }

    private func result(_ delivery: ClaimedDelivery, status: DeliveryStatus, at time: Timestamp, next: Timestamp? = nil)
        -> AttemptResult
    {
        AttemptResult(
            delivery: delivery,
            attempt: AttemptRecord(
                number: delivery.attemptsMade + 1,
                time: time,
                status: status == .succeeded ? 200 : 500,
                latencyMilliseconds: 3,
                error: nil,
                responseHeaders: [],
                responseBody: nil
            ),
            status: status,
            nextAttempt: next
        )
    }

    @Test(
        "An event on an endpoint's channel is one delivery, and a leased delivery is not claimed again",
        arguments: StoreBackend.underTest
    )
    func claimIsExclusive(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            try await store.adminStore.insertEndpoint(try endpoint("ep_a", at: store.clock.now))
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
            try await store.adminStore.insertEndpoint(try endpoint("ep_l", at: store.clock.now))
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
            try await store.adminStore.insertEndpoint(try endpoint("ep_o", ordered: true, at: store.clock.now))
            _ = try await store.log.append([try .test("orders"), try .test("orders"), try .test("orders")])
            let first = try await claimAll(store)
            #expect(first.compactMap(\.event?.offset) == [1])
            let now = store.clock.now
            _ = try await store.deliveries.record(
                try first.map { result($0, status: .succeeded, at: now) },
                now: now,
                disableFailingAfter: .seconds(86_400)
            )
            #expect(try await claimAll(store).compactMap(\.event?.offset) == [2])
        }
    }

    @Test(
        "A failed delivery waits for its next attempt; retryNow makes it due at once",
        arguments: StoreBackend.underTest
    )
    func retryNow(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            try await store.adminStore.insertEndpoint(try endpoint("ep_r", at: store.clock.now))
            _ = try await store.log.append([try .test("orders")])
            let claimed = try await claimAll(store)
            try #require(claimed.count == 1)
            let now = store.clock.now
            let later = Timestamp(millisecondsSinceEpoch: now.millisecondsSinceEpoch + 3_600_000)
            _ = try await store.deliveries.record(
                [result(claimed[0], status: .failed, at: now, next: later)],
                now: now,
                disableFailingAfter: .seconds(86_400)
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
            try await store.adminStore.insertEndpoint(try endpoint("ep_p", at: store.clock.now))
            let since = store.clock.now
            _ = try await store.log.append([try .test("orders"), try .test("orders")])
            let claimed = try await claimAll(store).sorted { ($0.event?.offset ?? 0) < ($1.event?.offset ?? 0) }
            try #require(claimed.count == 2)
            let now = store.clock.now
            _ = try await store.deliveries.record(
                [result(claimed[0], status: .dead, at: now), result(claimed[1], status: .succeeded, at: now)],
                now: now,
                disableFailingAfter: .seconds(86_400)
            )
            #expect(try await claimAll(store).isEmpty)
            #expect(try await store.deliveries.replay(endpoint: "ep_p", since: since, onlyFailed: true, now: now) == 1)
            let again = try await claimAll(store)
            #expect(again.map(\.id) == [claimed[0].id])
            #expect(again.first?.attemptsMade == 1)
            #expect(again.first?.attemptsInRound == 0)
        }
    }
}

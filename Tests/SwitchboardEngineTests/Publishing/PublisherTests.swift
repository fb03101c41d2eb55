import NIOCore
import NIOPosix
import SwitchboardCore
import SwitchboardEngine
import SwitchboardStore
import SwitchboardTestSupport
import Testing

@Suite("Publisher over a real SQLite log")
struct PublisherTests {
    /// The value of an unlabelled metric in the Prometheus text exposition.
    private func metric(_ name: String, in metrics: EngineMetrics) -> String? {
        String(decoding: metrics.render(), as: UTF8.self)
            .split(separator: "\n")
            .first { $0.hasPrefix(name + " ") }
            .map { String($0.dropFirst(name.count + 1)) }
    }

    @Test("Publishing returns receipts in draft order, and the events are in the log when it returns")
    func publishReturnsReceipts() async throws {
        try await StoreFixture.with(.sqlite) { store in
            let metrics = EngineMetrics()
            let publisher = Publisher(log: store.log, metrics: metrics)
            let receipts = try await publisher.publish([
                try EventDraft.test("orders", type: "order.created", data: #"{"id":1}"#),
                try EventDraft.test("chat:1", data: #""hi""#),
                try EventDraft.test("orders", type: "order.paid", data: #"{"id":1}"#),
            ])
            #expect(receipts.map(\.channel.rawValue) == ["orders", "chat:1", "orders"])
            #expect(receipts.map(\.offset) == [1, 1, 2])
            #expect(receipts.allSatisfy { !$0.wasReplayed })

            let page = try await store.log.read(channel: try ChannelName("orders"), after: 0, limit: 10)
            #expect(page.events.map(\.id) == [receipts[0].id, receipts[2].id])
            #expect(page.events.map(\.type.rawValue) == ["order.created", "order.paid"])
            #expect(metric("switchboard_events_published_total", in: metrics) == "3")
        }
    }

    @Test("A retried publish returns the original receipt and counts as replayed, not as published")
    func replayIsCounted() async throws {
        try await StoreFixture.with(.sqlite) { store in
            let metrics = EngineMetrics()
            let publisher = Publisher(log: store.log, metrics: metrics)
            let first = try await publisher.publish([try EventDraft.test("orders", key: "order-1")])
            let retry = try await publisher.publish([
                try EventDraft.test("orders", key: "order-1"), try EventDraft.test("orders"),
            ])
            #expect(retry.first?.id == first.first?.id)
            #expect(retry.first?.offset == first.first?.offset)
            #expect(retry.map(\.wasReplayed) == [true, false])
            #expect(metric("switchboard_events_published_total", in: metrics) == "2")
            #expect(metric("switchboard_publishes_replayed_total", in: metrics) == "1")
        }
    }

    @Test("Published events reach Hub subscribers through the log's commit observer, in commit order")
    func publishedEventsReachTheHub() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let hub = Hub(metrics: EngineMetrics())
        let subscriber = RecordingSubscriber(on: loop)
        hub.subscribe(subscriber, to: try ChannelName("orders"))

        let options = StoreOptions(onCommit: { events in hub.publish(events) })
        let receipts = try await StoreFixture.with(.sqlite, options: options) { store in
            let publisher = Publisher(log: store.log, metrics: EngineMetrics())
            return try await withThrowingTaskGroup(of: [AppendReceipt].self) { tasks in
                for index in 0..<20 {
                    tasks.addTask {
                        try await publisher.publish([
                            try EventDraft.test("orders", data: "\(index)"), try EventDraft.test("chat:1"),
                        ])
                    }
                }
                return try await tasks.reduce(into: [AppendReceipt]()) { $0 += $1 }
            }
        }
        try await loop.submit {}.get()

        let delivered = subscriber.events.map(\.event)
        #expect(delivered.map(\.offset) == Array(1...20))
        #expect(Set(delivered.map(\.id)) == Set(receipts.filter { $0.channel.rawValue == "orders" }.map(\.id)))
        #expect(subscriber.callsOffLoop == 0)
        try await group.shutdownGracefully()
    }

    @Test("When the log cannot commit, publishing fails with unavailable and nothing is stored")
    func unavailableWhenTheLogCannotCommit() async throws {
        try await StoreFixture.with(.sqlite) { store in
            let publisher = Publisher(log: store.log, metrics: EngineMetrics())
            let draft = try EventDraft.test("orders")
            store.stopWriting()
            let error = await #expect(throws: SwitchboardError.self) {
                try await publisher.publish([draft])
            }
            #expect(error?.code == .unavailable)
            #expect(error?.detail.contains("Idempotency-Key") == true)
            #expect(try await store.log.head(of: try ChannelName("orders")) == 0)
        }
    }
}

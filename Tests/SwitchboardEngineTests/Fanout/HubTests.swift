import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOPosix
import SwitchboardCore
import SwitchboardTestSupport
import Testing

@testable import SwitchboardEngine

@Suite("Hub fan-out")
struct HubTests {
    private let orders = try! ChannelName("orders")
    private let chat = try! ChannelName("chat:1")

    // MARK: Deliveries

    @Test("Every subscriber of a channel receives the batch's events in order, then one flush")
    func everySubscriberReceivesTheBatch() throws {
        let hub = Hub(metrics: EngineMetrics())
        let loops = [EmbeddedEventLoop(), EmbeddedEventLoop()]
        let subscribers = [
            RecordingSubscriber(on: loops[0]), RecordingSubscriber(on: loops[0]), RecordingSubscriber(on: loops[1]),
        ]
        for subscriber in subscribers { hub.subscribe(subscriber, to: orders) }

        hub.publish(try (1...3).map { try testEvent("orders", $0) })
        #expect(subscribers.allSatisfy { $0.calls.isEmpty }, "deliveries run on the subscriber's loop, not in publish")
        for loop in loops { loop.run() }

        for subscriber in subscribers {
            #expect(subscriber.calls == [.deliver(orders, offsets: [1, 2, 3]), .flush])
            #expect(subscriber.events.map(\.event) == (try (1...3).map { try testEvent("orders", $0) }))
        }
    }

    @Test("A subscriber of several channels in one batch gets each channel's events, then exactly one flush")
    func oneFlushPerBatch() throws {
        let hub = Hub(metrics: EngineMetrics())
        let loop = EmbeddedEventLoop()
        let subscriber = RecordingSubscriber(on: loop)
        hub.subscribe(subscriber, to: orders)
        hub.subscribe(subscriber, to: chat)

        hub.publish([
            try testEvent("orders", 1), try testEvent("chat:1", 1), try testEvent("orders", 2),
            try testEvent("chat:1", 2),
        ])
        loop.run()

        #expect(
            subscriber.calls == [.deliver(orders, offsets: [1, 2]), .deliver(chat, offsets: [1, 2]), .flush]
        )
    }

    @Test("Batches waiting on a loop are delivered in publish order and flushed once, after all of them")
    func batchesInCommitOrder() throws {
        let hub = Hub(metrics: EngineMetrics())
        let loop = EmbeddedEventLoop()
        let subscriber = RecordingSubscriber(on: loop)
        hub.subscribe(subscriber, to: orders)

        hub.publish([try testEvent("orders", 1), try testEvent("orders", 2)])
        hub.publish([try testEvent("orders", 3)])
        loop.run()

        #expect(subscriber.calls == [.deliver(orders, offsets: [1, 2]), .deliver(orders, offsets: [3]), .flush])
    }

    @Test("A batch published after a flush gets its own flush")
    func batchAfterFlushFlushesAgain() throws {
        let hub = Hub(metrics: EngineMetrics())
        let loop = EmbeddedEventLoop()
        let subscriber = RecordingSubscriber(on: loop)
        hub.subscribe(subscriber, to: orders)

        hub.publish([try testEvent("orders", 1)])
        loop.run()
        hub.publish([try testEvent("orders", 2)])
        loop.run()

        #expect(
            subscriber.calls == [.deliver(orders, offsets: [1]), .flush, .deliver(orders, offsets: [2]), .flush]
        )
    }

    @Test("Events of channels a subscriber has not subscribed to are not delivered, and do not flush it")
    func otherChannelsAreNotDelivered() throws {
        let hub = Hub(metrics: EngineMetrics())
        let loop = EmbeddedEventLoop()
        let subscriber = RecordingSubscriber(on: loop)
        hub.subscribe(subscriber, to: orders)

        hub.publish([try testEvent("chat:1", 1)])
        loop.run()
        #expect(subscriber.calls.isEmpty)

        hub.publish([try testEvent("chat:1", 2), try testEvent("orders", 1)])
        loop.run()
        #expect(subscriber.calls == [.deliver(orders, offsets: [1]), .flush])
    }

    @Test("An event is encoded once: every subscriber, on every loop, gets the same frame and SSE buffers")
    func encodedOnce() throws {
        let hub = Hub(metrics: EngineMetrics())
        let loops = [EmbeddedEventLoop(), EmbeddedEventLoop()]
        let subscribers = [
            RecordingSubscriber(on: loops[0]), RecordingSubscriber(on: loops[0]), RecordingSubscriber(on: loops[1]),
        ]
        for subscriber in subscribers { hub.subscribe(subscriber, to: orders) }

        hub.publish([try testEvent("orders", 1), try testEvent("orders", 2)])
        for loop in loops { loop.run() }

        let reference = subscribers[0].events
        try #require(reference.count == 2)
        #expect(storageAddress(reference[0].webSocketFrame) != storageAddress(reference[1].webSocketFrame))
        for subscriber in subscribers.dropFirst() {
            let events = subscriber.events
            try #require(events.count == 2)
            for (mine, theirs) in zip(events, reference) {
                #expect(storageAddress(mine.webSocketFrame) == storageAddress(theirs.webSocketFrame))
                #expect(storageAddress(mine.serverSentData) == storageAddress(theirs.serverSentData))
                #expect(mine.deflatedWebSocketFrame === theirs.deflatedWebSocketFrame)
            }
        }
    }

    @Test("Unsubscribing stops deliveries on that channel only, and the subscription count follows")
    func unsubscribeStopsDeliveries() throws {
        let hub = Hub(metrics: EngineMetrics())
        let loop = EmbeddedEventLoop()
        let subscriber = RecordingSubscriber(on: loop)
        hub.subscribe(subscriber, to: orders)
        hub.subscribe(subscriber, to: chat)
        #expect(hub.subscriptionCount == 2)

        hub.unsubscribe(subscriber, from: orders)
        #expect(hub.subscriptionCount == 1)
        hub.publish([try testEvent("orders", 1), try testEvent("chat:1", 1)])
        loop.run()
        #expect(subscriber.calls == [.deliver(chat, offsets: [1]), .flush])

        hub.unsubscribe(subscriber, from: chat)
        hub.unsubscribe(subscriber, from: chat)
        #expect(hub.subscriptionCount == 0)
        hub.publish([try testEvent("orders", 2), try testEvent("chat:1", 2)])
        loop.run()
        #expect(subscriber.calls == [.deliver(chat, offsets: [1]), .flush])
    }

    @Test("Subscribing twice to a channel delivers its events once")
    func subscribeTwiceDeliversOnce() throws {
        let hub = Hub(metrics: EngineMetrics())
        let loop = EmbeddedEventLoop()
        let subscriber = RecordingSubscriber(on: loop)
        hub.subscribe(subscriber, to: orders)
        hub.subscribe(subscriber, to: orders)
        #expect(hub.subscriptionCount == 1)

        hub.publish([try testEvent("orders", 1)])
        loop.run()
        #expect(subscriber.calls == [.deliver(orders, offsets: [1]), .flush])
    }

    @Test("On real event loops, each subscriber is called only on its own loop")
    func deliveriesRunOnTheSubscribersLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loops = [group.next(), group.next()]
        let hub = Hub(metrics: EngineMetrics())
        let subscribers = loops.flatMap { [RecordingSubscriber(on: $0), RecordingSubscriber(on: $0)] }
        for subscriber in subscribers { hub.subscribe(subscriber, to: orders) }

        for offset in Int64(1)...50 {
            hub.publish([try testEvent("orders", offset)])
        }
        // A loop runs its tasks in order: once this no-op ran, every delivery scheduled before it has too;
        // a second one waits for the flush those deliveries queued.
        for loop in loops { try await loop.submit {}.get() }
        for loop in loops { try await loop.submit {}.get() }

        for subscriber in subscribers {
            #expect(subscriber.callsOffLoop == 0)
            #expect(subscriber.events.map(\.offset) == Array(1...50))
            // Batches that waited on the loop together share a flush; the last call is always one.
            let flushes = subscriber.calls.filter { $0 == .flush }.count
            #expect((1...50).contains(flushes))
            #expect(subscriber.calls.last == .flush)
        }
        try await group.shutdownGracefully()
    }

    // MARK: Waiters

    /// A waiter's deadlines are set on a clock that stands still: a wait ends by a ring, a cancellation
    /// or the test moving the clock, never by time passing.
    @Test("A waiter is rung by the next event on its channel while it waits", .timeLimit(.minutes(1)))
    func waiterRungWhileWaiting() async throws {
        let clock = ManualClock()
        let hub = Hub(metrics: EngineMetrics())
        let waiter = hub.makeWaiter(for: orders)
        async let waited: Void = waiter.wait(timeout: .seconds(30), ambient: clock.ambient)
        await clock.waitForDeadline(.longPoll)
        hub.publish([try testEvent("orders", 1)])
        await waited
        #expect(waiter.isRung)
    }

    @Test("A waiter rung before it starts waiting returns at once (register, read, then wait)", .timeLimit(.minutes(1)))
    func waiterRungBeforeWaiting() async throws {
        let clock = ManualClock()
        let hub = Hub(metrics: EngineMetrics())
        let waiter = hub.makeWaiter(for: orders)
        hub.publish([try testEvent("orders", 1)])
        await waiter.wait(timeout: .seconds(30), ambient: clock.ambient)
        #expect(waiter.isRung)
    }

    @Test("A waiter is not rung by events on other channels; it waits out its timeout")
    func waiterIgnoresOtherChannels() async throws {
        let clock = ManualClock()
        let hub = Hub(metrics: EngineMetrics())
        let waiter = hub.makeWaiter(for: orders)
        hub.publish([try testEvent("chat:1", 1), try testEvent("orders:eu", 1)])
        #expect(!waiter.isRung)
        async let waited: Void = waiter.wait(timeout: .milliseconds(100), ambient: clock.ambient)
        await clock.waitForDeadline(.longPoll)
        await clock.advance(by: .milliseconds(100))
        await waited
    }

    @Test("A removed waiter is not rung")
    func removedWaiterIsNotRung() async throws {
        let hub = Hub(metrics: EngineMetrics())
        let waiter = hub.makeWaiter(for: orders)
        hub.removeWaiter(waiter, for: orders)
        hub.publish([try testEvent("orders", 1)])
        #expect(!waiter.isRung)
    }

    @Test("wait(timeout:) returns when the timeout passes with no event, and not before", .timeLimit(.minutes(1)))
    func waiterTimesOut() async {
        let clock = ManualClock()
        let hub = Hub(metrics: EngineMetrics())
        let waiter = hub.makeWaiter(for: orders)
        let returned = NIOLockedValueBox(false)
        let task = Task {
            await waiter.wait(timeout: .milliseconds(50), ambient: clock.ambient)
            returned.withLockedValue { $0 = true }
        }
        await clock.waitForDeadline(.longPoll)
        await clock.advance(by: .milliseconds(49))
        #expect(!waiter.isRung && !returned.withLockedValue { $0 })
        await clock.advance(by: .milliseconds(1))
        await task.value
        #expect(returned.withLockedValue { $0 })
    }

    @Test("wait(timeout:) returns when its task is cancelled", .timeLimit(.minutes(1)))
    func waiterCancelled() async {
        let clock = ManualClock()
        let hub = Hub(metrics: EngineMetrics())
        let waiter = hub.makeWaiter(for: orders)
        let task = Task { await waiter.wait(timeout: .seconds(30), ambient: clock.ambient) }
        task.cancel()
        await task.value
    }

    // MARK: Occupancy

    @Test("A channel's first subscriber and its last one leaving are told, in order; others and $ channels are not")
    func occupancyChanges() throws {
        let hub = Hub(metrics: EngineMetrics())
        let changes = NIOLockedValueBox<[String]>([])
        hub.setOccupancyObserver { channel, occupied in
            changes.withLockedValue { $0.append("\(channel) \(occupied ? "occupied" : "vacated")") }
        }
        let loops = [EmbeddedEventLoop(), EmbeddedEventLoop()]
        let (first, second) = (RecordingSubscriber(on: loops[0]), RecordingSubscriber(on: loops[1]))
        let journal = try ChannelName("$presence:orders")

        hub.subscribe(first, to: orders)
        hub.subscribe(second, to: orders)
        hub.subscribe(first, to: orders)
        hub.subscribe(first, to: journal)
        #expect(changes.withLockedValue { $0 } == ["orders occupied"])

        hub.unsubscribe(first, from: orders)
        hub.unsubscribe(first, from: orders)
        #expect(changes.withLockedValue { $0 } == ["orders occupied"], "a subscriber is still there")
        hub.unsubscribe(second, from: orders)
        hub.unsubscribe(first, from: journal)
        hub.subscribe(second, to: orders)
        #expect(changes.withLockedValue { $0 } == ["orders occupied", "orders vacated", "orders occupied"])
    }
}

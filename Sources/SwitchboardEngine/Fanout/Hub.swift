import NIOConcurrencyHelpers
public import NIOCore
import Prometheus
public import SwitchboardCore

/// Fans committed events out to local subscribers.
///
/// Each event is encoded once (`EncodedEvent`); per batch the Hub hops once to each event loop that
/// owns subscribers of the batch's channels, delivers every subscriber its events there, then asks
/// each to flush once, so a subscriber's frames of one batch leave in one write and one flush.
/// Deliveries to one subscriber happen in commit order because batches arrive in commit order and
/// an event loop runs its tasks in order.
public final class Hub: Sendable {
    private struct LoopSubscribers {
        let loop: any EventLoop
        var subscribers: [any HubSubscriber] = []
    }

    private struct ChannelEntry {
        var loops: [ObjectIdentifier: LoopSubscribers] = [:]
        var isEmpty: Bool { loops.isEmpty }
    }

    private struct State {
        var channels: [ChannelName: ChannelEntry] = [:]
        var waiters: [ChannelName: [ChannelWaiter]] = [:]
        var subscriptionCount = 0
    }

    private let state = NIOLockedValueBox(State())
    private let allocator = ByteBufferAllocator()
    /// The one compressor for permessage-deflate frames.
    public let deflater = FrameDeflater()
    private let metrics: EngineMetrics

    /// Makes an empty hub.
    public init(metrics: EngineMetrics) {
        self.metrics = metrics
    }

    /// Adds `subscriber` to `channel`'s live deliveries (no effect when already there).
    public func subscribe(_ subscriber: any HubSubscriber, to channel: ChannelName) {
        let loopKey = ObjectIdentifier(subscriber.eventLoop)
        let added = state.withLockedValue { state -> Bool in
            var entry = state.channels[channel] ?? ChannelEntry()
            var loop = entry.loops[loopKey] ?? LoopSubscribers(loop: subscriber.eventLoop)
            guard !loop.subscribers.contains(where: { $0 === subscriber }) else { return false }
            loop.subscribers.append(subscriber)
            entry.loops[loopKey] = loop
            state.channels[channel] = entry
            state.subscriptionCount += 1
            return true
        }
        if added { metrics.subscriptions.increment() }
    }

    /// Removes `subscriber` from `channel`.
    public func unsubscribe(_ subscriber: any HubSubscriber, from channel: ChannelName) {
        let loopKey = ObjectIdentifier(subscriber.eventLoop)
        let removed = state.withLockedValue { state -> Bool in
            guard var entry = state.channels[channel], var loop = entry.loops[loopKey],
                let index = loop.subscribers.firstIndex(where: { $0 === subscriber })
            else { return false }
            loop.subscribers.remove(at: index)
            entry.loops[loopKey] = loop.subscribers.isEmpty ? nil : loop
            state.channels[channel] = entry.isEmpty ? nil : entry
            state.subscriptionCount -= 1
            return true
        }
        if removed { metrics.subscriptions.decrement() }
    }

    /// How many subscriptions are live.
    public var subscriptionCount: Int {
        state.withLockedValue { $0.subscriptionCount }
    }

    /// A doorbell rung by the next event committed on `channel`. Register it before reading the log,
    /// so that an event committed in between is not missed.
    public func makeWaiter(for channel: ChannelName) -> ChannelWaiter {
        let waiter = ChannelWaiter()
        state.withLockedValue { $0.waiters[channel, default: []].append(waiter) }
        return waiter
    }

    /// Forgets a waiter that is no longer needed.
    public func removeWaiter(_ waiter: ChannelWaiter, for channel: ChannelName) {
        state.withLockedValue { state in
            state.waiters[channel]?.removeAll { $0 === waiter }
            if state.waiters[channel]?.isEmpty == true { state.waiters[channel] = nil }
        }
    }

    /// Delivers committed events (in commit order) to the subscribers of their channels.
    public func publish(_ events: [Event]) {
        guard !events.isEmpty else { return }
        var byChannel: [ChannelName: [EncodedEvent]] = [:]
        var order: [ChannelName] = []
        for event in events {
            if byChannel[event.channel] == nil { order.append(event.channel) }
            byChannel[event.channel, default: []].append(EncodedEvent(event, allocator: allocator, deflater: deflater))
        }
        typealias Work = (subscribers: [any HubSubscriber], events: [EncodedEvent], channel: ChannelName)
        var perLoop: [ObjectIdentifier: (loop: any EventLoop, work: [Work])] = [:]
        var rung: [ChannelWaiter] = []
        state.withLockedValue { state in
            for channel in order {
                if let waiters = state.waiters.removeValue(forKey: channel) { rung += waiters }
                guard let entry = state.channels[channel], let encoded = byChannel[channel] else { continue }
                for (key, loop) in entry.loops {
                    perLoop[key, default: (loop.loop, [])].work.append((loop.subscribers, encoded, channel))
                }
            }
        }
        for waiter in rung { waiter.ring() }
        for (_, target) in perLoop {
            let work = target.work
            let metrics = self.metrics
            target.loop.execute {
                var viaWebSocket = 0
                var viaServerSentEvents = 0
                for item in work {
                    for subscriber in item.subscribers {
                        let written = subscriber.deliver(item.events, of: item.channel)
                        switch subscriber.transport {
                        case .webSocket: viaWebSocket += written
                        case .serverSentEvents: viaServerSentEvents += written
                        }
                    }
                }
                if viaWebSocket > 0 { metrics.deliveredWebSocket.increment(by: Int64(viaWebSocket)) }
                if viaServerSentEvents > 0 {
                    metrics.deliveredServerSentEvents.increment(by: Int64(viaServerSentEvents))
                }
                if work.count == 1 {
                    for subscriber in work[0].subscribers { subscriber.flushDeliveries() }
                } else {
                    // A subscriber of several of the batch's channels still flushes once.
                    var flushed = Set<ObjectIdentifier>()
                    for item in work {
                        for subscriber in item.subscribers where flushed.insert(ObjectIdentifier(subscriber)).inserted {
                            subscriber.flushDeliveries()
                        }
                    }
                }
            }
        }
    }
}

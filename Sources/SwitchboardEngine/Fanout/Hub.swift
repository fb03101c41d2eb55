import NIOConcurrencyHelpers
import NIOCore
import Prometheus
public import SwitchboardCore

/// Fans committed events out to local subscribers.
///
/// Each event someone listens to is encoded once (`EncodedEvent`); per batch the Hub hops once to each
/// event loop that owns subscribers of the batch's channels and delivers every subscriber its events
/// there; each subscriber is then flushed once per loop tick (`LoopFlusher`), so its frames leave in
/// one write and one flush however many batches the tick held. Deliveries to one subscriber happen in
/// commit order because batches arrive in commit order and an event loop runs its tasks in order.
public final class Hub: Sendable {
    private struct LoopSubscribers {
        let loop: any EventLoop
        var subscribers: [any HubSubscriber] = []
    }

    private struct ChannelEntry {
        var loops: [ObjectIdentifier: LoopSubscribers] = [:]
        /// Subscribers speaking the Pusher protocol: while any, events are also encoded as Pusher frames.
        var pusherSubscribers = 0
        var isEmpty: Bool { loops.isEmpty }
    }

    private struct State {
        var channels: [ChannelName: ChannelEntry] = [:]
        var waiters: [ChannelName: [ChannelWaiter]] = [:]
        var subscriptionCount = 0
        var flushers: [ObjectIdentifier: LoopFlusher] = [:]
        var interest: (any ChannelInterest)?
        var occupancy: OccupancyObserver?
    }

    /// Told when one of the application's channels (not a `$` one) gains its first local subscriber
    /// (`true`) or loses its last (`false`). Called under the hub's lock, so calls come in the order
    /// the changes happened; it must only queue.
    public typealias OccupancyObserver = @Sendable (ChannelName, Bool) -> Void

    private let state = NIOLockedValueBox(State())
    private let allocator = ByteBufferAllocator()
    /// The one compressor for permessage-deflate frames.
    public let deflater = FrameDeflater()
    private let metrics: EngineMetrics

    /// Makes an empty hub.
    public init(metrics: EngineMetrics) {
        self.metrics = metrics
    }

    /// Tells `interest` of every reader that registers or leaves from now on (set once, before any
    /// reader registers).
    public func setInterest(_ interest: any ChannelInterest) {
        state.withLockedValue { $0.interest = interest }
    }

    /// Tells `observer` of every change of a channel's occupancy from now on (set once, before any
    /// reader registers).
    public func setOccupancyObserver(_ observer: @escaping OccupancyObserver) {
        state.withLockedValue { $0.occupancy = observer }
    }

    /// Returns once the events of `channel` committed from now on reach the Hub: at once on a node
    /// alone; on a node sharing its store, once the channel is followed. Readers await it after
    /// registering (`subscribe`, `makeWaiter`) and before reading the log.
    public func ready(for channel: ChannelName) async {
        await state.withLockedValue({ $0.interest })?.anchored(channel)
    }

    /// Adds `subscriber` to `channel`'s live deliveries (no effect when already there).
    public func subscribe(_ subscriber: any HubSubscriber, to channel: ChannelName) {
        let loopKey = ObjectIdentifier(subscriber.eventLoop)
        let (added, interest) = state.withLockedValue { state -> (Bool, (any ChannelInterest)?) in
            var entry = state.channels[channel] ?? ChannelEntry()
            var loop = entry.loops[loopKey] ?? LoopSubscribers(loop: subscriber.eventLoop)
            guard !loop.subscribers.contains(where: { $0 === subscriber }) else { return (false, nil) }
            let wasVacant = entry.isEmpty
            loop.subscribers.append(subscriber)
            entry.loops[loopKey] = loop
            if subscriber.transport == .pusher { entry.pusherSubscribers += 1 }
            state.channels[channel] = entry
            if wasVacant, !channel.isServerWritten { state.occupancy?(channel, true) }
            state.subscriptionCount += 1
            return (true, state.interest)
        }
        guard added else { return }
        metrics.subscriptions.increment()
        interest?.retain(channel)
    }

    /// Removes `subscriber` from `channel`.
    public func unsubscribe(_ subscriber: any HubSubscriber, from channel: ChannelName) {
        let loopKey = ObjectIdentifier(subscriber.eventLoop)
        let (removed, interest) = state.withLockedValue { state -> (Bool, (any ChannelInterest)?) in
            guard var entry = state.channels[channel], var loop = entry.loops[loopKey],
                let index = loop.subscribers.firstIndex(where: { $0 === subscriber })
            else { return (false, nil) }
            loop.subscribers.remove(at: index)
            entry.loops[loopKey] = loop.subscribers.isEmpty ? nil : loop
            if subscriber.transport == .pusher { entry.pusherSubscribers -= 1 }
            state.channels[channel] = entry.isEmpty ? nil : entry
            if entry.isEmpty, !channel.isServerWritten { state.occupancy?(channel, false) }
            state.subscriptionCount -= 1
            return (true, state.interest)
        }
        guard removed else { return }
        metrics.subscriptions.decrement()
        interest?.release(channel)
    }

    /// How many subscriptions are live.
    public var subscriptionCount: Int {
        state.withLockedValue { $0.subscriptionCount }
    }

    /// How many local subscribers `channel` has (this node's; nodes sharing a store each know their own).
    public func subscriberCount(of channel: ChannelName) -> Int {
        state.withLockedValue { state in
            state.channels[channel]?.loops.values.reduce(0) { $0 + $1.subscribers.count } ?? 0
        }
    }

    /// Every channel with at least one local subscriber, with how many it has.
    public func occupiedChannels() -> [(channel: ChannelName, subscribers: Int)] {
        state.withLockedValue { state in
            state.channels.map { channel, entry in
                (channel, entry.loops.values.reduce(0) { $0 + $1.subscribers.count })
            }
        }
    }

    /// A doorbell rung by the next event committed on `channel`. Register it before reading the log,
    /// so that an event committed in between is not missed.
    public func makeWaiter(for channel: ChannelName) -> ChannelWaiter {
        let waiter = ChannelWaiter()
        let interest = state.withLockedValue { state in
            state.waiters[channel, default: []].append(waiter)
            return state.interest
        }
        interest?.retain(channel)
        return waiter
    }

    /// Forgets a waiter that is no longer needed; call it once for every `makeWaiter`, rung or not.
    public func removeWaiter(_ waiter: ChannelWaiter, for channel: ChannelName) {
        let interest = state.withLockedValue { state in
            state.waiters[channel]?.removeAll { $0 === waiter }
            if state.waiters[channel]?.isEmpty == true { state.waiters[channel] = nil }
            return state.interest
        }
        interest?.release(channel)
    }

    /// Delivers committed events (in commit order) to the subscribers of their channels.
    public func publish(_ events: [Event]) {
        guard !events.isEmpty else { return }
        var byChannel: [ChannelName: [Event]] = [:]
        var order: [ChannelName] = []
        for event in events {
            if byChannel[event.channel] == nil { order.append(event.channel) }
            byChannel[event.channel, default: []].append(event)
        }
        var perLoop: [ObjectIdentifier: (loop: any EventLoop, flusher: LoopFlusher, work: [DeliveryWork])] = [:]
        var rung: [ChannelWaiter] = []
        var live: [(ChannelName, [ObjectIdentifier: LoopSubscribers], pusher: Bool)] = []
        state.withLockedValue { state in
            for channel in order {
                if let waiters = state.waiters.removeValue(forKey: channel) { rung += waiters }
                if let entry = state.channels[channel] {
                    live.append((channel, entry.loops, entry.pusherSubscribers > 0))
                }
            }
            for (_, loops, _) in live {
                for (key, loop) in loops where perLoop[key] == nil {
                    let flusher = state.flushers[key] ?? LoopFlusher(loop: loop.loop, metrics: metrics)
                    state.flushers[key] = flusher
                    perLoop[key] = (loop.loop, flusher, [])
                }
            }
        }
        for waiter in rung { waiter.ring() }
        // Encode once per event, and only events someone listens to.
        for (channel, loops, pusher) in live {
            guard let raw = byChannel[channel] else { continue }
            let encoded = EncodedBatch(
                raw.map { EncodedEvent($0, allocator: allocator, deflater: deflater, pusher: pusher) },
                allocator: allocator
            )
            for (key, loop) in loops {
                perLoop[key]?.work.append(
                    DeliveryWork(subscribers: loop.subscribers, events: encoded, channel: channel)
                )
            }
        }
        for (_, target) in perLoop {
            let work = target.work
            let flusher = target.flusher
            target.loop.execute { flusher.deliver(work) }
        }
    }
}

/// One channel's events for the subscribers of one event loop.
struct DeliveryWork: Sendable {
    let subscribers: [any HubSubscriber]
    let events: EncodedBatch
    let channel: ChannelName
}

/// Gathers a loop's deliveries and flushes each subscriber once per event-loop tick: the flush is a
/// task queued behind the deliveries already waiting on the loop, so when the loop is busy, several
/// batches leave in one write per subscriber (fewer syscalls exactly when they matter most).
///
/// `@unchecked Sendable`: its mutable state is touched only on `loop` (`deliver` and the flush task
/// run there); the Hub only hands the reference to that loop.
final class LoopFlusher: @unchecked Sendable {
    private let loop: any EventLoop
    private let metrics: EngineMetrics
    private var dirty: [any HubSubscriber] = []
    private var dirtyIdentifiers = Set<ObjectIdentifier>()
    private var isFlushScheduled = false

    init(loop: any EventLoop, metrics: EngineMetrics) {
        self.loop = loop
        self.metrics = metrics
    }

    func deliver(_ work: [DeliveryWork]) {
        loop.preconditionInEventLoop()
        var viaWebSocket = 0
        var viaServerSentEvents = 0
        for item in work {
            for subscriber in item.subscribers {
                let written = subscriber.deliver(item.events, of: item.channel)
                guard written > 0 else { continue }
                switch subscriber.transport {
                case .webSocket, .pusher: viaWebSocket += written
                case .serverSentEvents: viaServerSentEvents += written
                }
                if dirtyIdentifiers.insert(ObjectIdentifier(subscriber)).inserted { dirty.append(subscriber) }
            }
        }
        if viaWebSocket > 0 { metrics.deliveredWebSocket.increment(by: Int64(viaWebSocket)) }
        if viaServerSentEvents > 0 { metrics.deliveredServerSentEvents.increment(by: Int64(viaServerSentEvents)) }
        guard !dirty.isEmpty, !isFlushScheduled else { return }
        isFlushScheduled = true
        loop.execute { self.flush() }
    }

    private func flush() {
        let subscribers = dirty
        dirty.removeAll(keepingCapacity: true)
        dirtyIdentifiers.removeAll(keepingCapacity: true)
        isFlushScheduled = false
        for subscriber in subscribers { subscriber.flushDeliveries() }
    }
}

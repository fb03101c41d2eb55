import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTPTypes
import Prometheus
import SwitchboardCore
import SwitchboardEngine
import SwitchboardStore

/// Subscribing, recovering missed events from the log, and taking live events from the Hub, each
/// subscription following `ChannelCatchUp`: registered with the Hub before its first read, paged
/// reads bounded by count and bytes, the next page only once the socket is writable.
extension WebSocketConnection {
    /// NIO's default high watermark for a channel's write buffer.
    static let writeBufferHighWatermark = 64 * 1024

    /// Subscribes to `channel`; `isAuthorized` when the caller checked the right to it already (a
    /// Pusher subscription, authorised by the app's signature instead of Switchboard's access policy).
    func subscribe(_ channel: ChannelName, since: Int64?, ref: JSONValue?, isAuthorized: Bool = false) {
        guard !isTornDown, !isClosing else { return }
        do {
            if !isAuthorized { try engine.configuration.accessPolicy.authorizeSubscribe(principal, to: channel) }
        } catch {
            return sendError(error, ref: ref)
        }
        guard subscriptions[channel] == nil else {
            return sendError(SwitchboardError(.conflict, "already subscribed to \(channel)"), ref: ref)
        }
        let maximum = engine.configuration.limits.maximumSubscriptionsPerConnection
        guard subscriptions.count < maximum else {
            engine.metrics.refused(by: "subscriptions")
            return sendError(SwitchboardError(.badRequest, "at most \(maximum) subscriptions per connection"), ref: ref)
        }
        if principal.user != nil, engine.configuration.namespaces.keepsPresence(channel) {
            // Each join (and its leave) is a durable event: churning subscriptions may not flood the log.
            guard presenceBucket.take(at: engine.ambient.monotonicClock()) else {
                engine.metrics.refused(by: "presence_join_rate")
                let rate = engine.configuration.limits.presenceJoinRate
                return sendError(
                    SwitchboardError(
                        .rateLimited,
                        "at most \(rate) presence joins a second per connection",
                        retryAfterSeconds: presenceBucket.retryAfterSeconds()
                    ),
                    ref: ref
                )
            }
        }
        nextGeneration += 1
        subscriptions[channel] = WebSocketSubscription(
            generation: nextGeneration,
            catchUp: ChannelCatchUp(after: since ?? 0),
            pendingReply: PendingSubscribeReply(ref: ref, since: since),
            policy: engine.configuration.namespaces.policy(for: channel)
        )
        updateMailbox()
        engine.hub.subscribe(self, to: channel)
        joinPresence(channel)
        continueCatchUp(channel)
    }

    /// Reads the next page of missed events for `channel` (off the loop) and applies it on the loop.
    func continueCatchUp(_ channel: ChannelName) {
        guard var subscription = subscriptions[channel], subscription.catchUp.startRead() else { return }
        subscriptions[channel] = subscription
        let log = engine.log
        let loop = eventLoop
        let pending = subscription.pendingReply
        let after = subscription.catchUp.delivered
        let generation = subscription.generation
        let limits = engine.configuration.limits
        let mailboxBytes = subscription.policy.mailboxBytes
        let hub = engine.hub
        Task {
            // Registered: once the hub is fed the channel's new events, the log has the rest.
            await hub.ready(for: channel)
            let result: Result<(head: Int64, page: HistoryPage?), any Error>
            do {
                if let pending, pending.since == nil {
                    // Live only: start after the head as it is now (we are already registered).
                    result = .success((try await log.head(of: channel), nil))
                } else {
                    let page = try await ChannelCatchUp.readPage(
                        of: channel,
                        after: after,
                        from: log,
                        limits: limits,
                        mailboxBytes: mailboxBytes
                    )
                    let head = pending == nil ? 0 : try await log.head(of: channel)
                    result = .success((head, page))
                }
            } catch {
                result = .failure(error)
            }
            loop.execute { self.applyCatchUp(channel, generation: generation, result) }
        }
    }

    private func applyCatchUp(
        _ channel: ChannelName,
        generation: Int,
        _ result: Result<(head: Int64, page: HistoryPage?), any Error>
    ) {
        // A read made for an earlier subscription to this channel (since unsubscribed) is stale.
        guard var subscription = subscriptions[channel], subscription.generation == generation, !isClosing else {
            return
        }
        guard case .success(let (head, page)) = result else {
            subscription.catchUp.readFailed()
            subscription.failedReads += 1
            subscriptions[channel] = subscription
            if subscription.pendingReply == nil, subscription.failedReads < WebSocketSubscription.maximumFailedReads {
                // An established subscription outlives a blip of the store (a restart, a fail-over):
                // it reads again after a backoff, and the client sees only a later event.
                retryCatchUp(channel, generation: generation, after: subscription.failedReads)
                return
            }
            endSubscription(channel)
            sendError(
                SwitchboardError(.unavailable, "the event log is unavailable"),
                ref: subscription.pendingReply?.ref
            )
            return
        }
        subscription.failedReads = 0
        var readsMore = false
        var events: [Event] = []
        if let page {
            let outcome = subscription.catchUp.pageRead(page)
            readsMore = outcome.readsMore
            events = outcome.events
        } else {
            readsMore = subscription.catchUp.startLive(at: head)
        }
        if let reply = subscription.pendingReply {
            subscription.pendingReply = nil
            let isTruncated = page?.isTruncated ?? false
            if pusherApp != nil {
                if let first = pusherChannels[channel]?.firstAnswer {
                    pusherChannels[channel]?.firstAnswer = nil
                    for message in first { send(message) }
                } else {
                    send(PusherMessage.subscriptionSucceeded(channel: channel))
                }
            } else {
                send(
                    ServerMessage.subscribed(
                        channel: channel,
                        head: head,
                        recovered: reply.since != nil && !isTruncated,
                        truncated: isTruncated,
                        ref: reply.ref
                    )
                )
            }
        }
        subscriptions[channel] = subscription
        if let context, !events.isEmpty {
            for event in events where !isOwnPusherEvent(event) {
                let message = pusherApp == nil ? ServerMessage.event(event) : PusherMessage.event(event)
                writeRaw(WebSocketFrameBytes.text(message, allocator: context.channel.allocator))
            }
            outbound.eventsInBatch += events.count
            engine.metrics.deliveredWebSocket.increment(by: Int64(events.count))
        }
        context?.flush()
        checkFlowControl(whileCatchingUp: true)
        guard readsMore else { return }
        if context?.channel.isWritable ?? false {
            continueCatchUp(channel)
        } else {
            awaitingWritability.wait(channel)
        }
    }

    /// Reads `channel`'s log again once the backoff after `failures` failed reads has passed, unless the
    /// subscription ended meanwhile.
    private func retryCatchUp(_ channel: ChannelName, generation: Int, after failures: Int) {
        let delay = WebSocketSubscription.retryDelay(afterFailures: failures)
        _ = engine.ambient.deadline(.catchUpRetry, in: delay, on: eventLoop) {
            guard self.subscriptions[channel]?.generation == generation, !self.isClosing else { return }
            self.continueCatchUp(channel)
        }
    }

    var transport: DeliveryTransport { pusherApp == nil ? .webSocket : .pusher }

    func deliver(_ batch: EncodedBatch, of channel: ChannelName) -> Int {
        guard !isClosing, let index = subscriptions.index(forKey: channel) else { return 0 }
        if pusherApp == nil, settings.deflate == nil,
            subscriptions.values[index].catchUp.takeInStep(first: batch.firstOffset, last: batch.lastOffset)
        {
            // In step: the whole batch in one write of the buffer every such subscriber shares.
            writeRaw(batch.joinedWebSocketFrames)
            outbound.eventsInBatch += batch.events.count
            return batch.events.count
        }
        let events = batch.events
        let batchEnd = batch.lastOffset
        var written = 0
        for encoded in events {
            switch subscriptions.values[index].catchUp.live(offset: encoded.offset, batchEnd: batchEnd) {
            case .skip:
                continue
            case .readLog:
                outbound.eventsInBatch += written
                continueCatchUp(channel)
                return written
            case .write:
                if pusherApp != nil {
                    if isOwnPusherEvent(encoded.event) { continue }
                    guard
                        let frame = encoded.pusherFrame
                            ?? context.map({
                                WebSocketFrameBytes.text(
                                    PusherMessage.event(encoded.event),
                                    allocator: $0.channel.allocator
                                )
                            })
                    else { continue }
                    writeRaw(frame)
                } else if settings.deflate != nil, let allocator = context?.channel.allocator,
                    let compressed = encoded.deflatedWebSocketFrame.frame(allocator: allocator)
                {
                    writeRaw(compressed)
                } else {
                    writeRaw(encoded.webSocketFrame)
                }
                written += 1
            }
        }
        outbound.eventsInBatch += written
        return written
    }

    /// The strictest mailbox limits of the subscribed namespaces, kept so that a flush needs no search.
    func updateMailbox() {
        let policies = subscriptions.values.map(\.policy)
        let defaults = engine.configuration.namespaces.defaultPolicy
        mailbox = (
            policies.map(\.mailboxBytes).min() ?? defaults.mailboxBytes,
            policies.map(\.mailboxEvents).min() ?? defaults.mailboxEvents
        )
    }

    func flushDeliveries() {
        guard outbound.eventsInBatch > 0, let context, !isClosing else { return }
        context.flush()
        checkFlowControl(whileCatchingUp: false)
    }

    /// Closes the connection with 4008 when its unsent data is past the mailbox limits. While catching
    /// up the connection is paced by writability instead, so only live overflow counts.
    func checkFlowControl(whileCatchingUp: Bool) {
        guard let context else { return }
        outbound.closeBatch()
        // Writable means less than the high watermark (64 KiB) is buffered: within any byte limit
        // that large, so only the event count can be near its limit, and the account knows when.
        let mustMeasure =
            whileCatchingUp || !context.channel.isWritable || mailbox.bytes < Self.writeBufferHighWatermark
            || outbound.shouldMeasure(eventLimit: mailbox.events)
        guard mustMeasure else { return }
        let buffered = (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
        let pendingEvents = outbound.confirm(buffered: buffered)
        guard !whileCatchingUp else { return }
        if buffered > mailbox.bytes || pendingEvents > mailbox.events {
            engine.metrics.slowConsumersClosed.increment()
            settings.logger.debug("closing slow consumer", metadata: ["sb.client": "\(clientID)"])
            close(.slowConsumer, reason: "slow consumer: reconnect and resume from your cursor")
        }
    }

    /// Ends the subscription to `channel`: out of the Hub, out of its presence, no longer waiting to
    /// write. Whether it existed.
    @discardableResult
    func endSubscription(_ channel: ChannelName) -> Bool {
        awaitingWritability.remove(channel)
        guard subscriptions.removeValue(forKey: channel) != nil else { return false }
        engine.hub.unsubscribe(self, from: channel)
        leavePresence(channel)
        return true
    }
}

import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTPTypes
import Prometheus
import SwitchboardCore
import SwitchboardEngine
import SwitchboardStore

/// Subscribing, recovering missed events from the log, and taking live events from the Hub.
///
/// A subscription registers with the Hub first and only then reads the log, so that no event can
/// fall between the two: while it reads, live events just raise `liveHighWater`; it turns live once
/// a read reaches the head and nothing newer was seen. A live event that does not follow the last
/// delivered offset sends the subscription back to the log, so gaps are impossible.
extension WebSocketConnection {
    static let catchUpPageSize = 500
    /// NIO's default high watermark for a channel's write buffer.
    static let writeBufferHighWatermark = 64 * 1024

    func subscribe(_ channel: ChannelName, since: Int64?, ref: JSONValue?) {
        guard !isTornDown, !isClosing else { return }
        do {
            try engine.configuration.accessPolicy.authorizeSubscribe(principal, to: channel)
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
        nextGeneration += 1
        subscriptions[channel] = WebSocketSubscription(
            generation: nextGeneration,
            delivered: since ?? 0,
            isCatchingUp: true,
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
        guard var subscription = subscriptions[channel], subscription.isCatchingUp, !subscription.isReading else {
            return
        }
        subscription.isReading = true
        subscriptions[channel] = subscription
        let log = engine.log
        let loop = eventLoop
        let pending = subscription.pendingReply
        let after = subscription.delivered
        let generation = subscription.generation
        Task {
            let result: Result<(head: Int64, page: HistoryPage?), any Error>
            do {
                if let pending, pending.since == nil {
                    // Live only: start after the head as it is now (we are already registered).
                    result = .success((try await log.head(of: channel), nil))
                } else {
                    let page = try await log.read(channel: channel, after: after, limit: Self.catchUpPageSize)
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
        subscription.isReading = false
        guard case .success(let (head, page)) = result else {
            endSubscription(channel)
            sendError(
                SwitchboardError(.unavailable, "the event log is unavailable"),
                ref: subscription.pendingReply?.ref
            )
            return
        }
        if let reply = subscription.pendingReply {
            subscription.pendingReply = nil
            let isTruncated = page?.isTruncated ?? false
            if reply.since == nil { subscription.delivered = head }
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
        var wroteEvents = 0
        if let page, let context {
            if page.isTruncated {
                // Older than retention or beyond the head: continue from the earliest retained event.
                subscription.delivered = page.events.first.map { $0.offset - 1 } ?? page.next
            }
            for event in page.events where event.offset > subscription.delivered {
                writeRaw(WebSocketFrameBytes.text(ServerMessage.event(event), allocator: context.channel.allocator))
                subscription.delivered = event.offset
                wroteEvents += 1
            }
        }
        let reachedHead = (page?.events.count ?? 0) < Self.catchUpPageSize
        if reachedHead && subscription.liveHighWater <= subscription.delivered {
            subscription.isCatchingUp = false
        }
        subscriptions[channel] = subscription
        if wroteEvents > 0 {
            outbound.eventsInBatch += wroteEvents
            engine.metrics.deliveredWebSocket.increment(by: Int64(wroteEvents))
        }
        context?.flush()
        checkFlowControl(whileCatchingUp: true)
        guard subscription.isCatchingUp else { return }
        if context?.channel.isWritable ?? false {
            continueCatchUp(channel)
        } else {
            channelsAwaitingWritability.append(channel)
        }
    }

    var transport: DeliveryTransport { .webSocket }

    func deliver(_ batch: EncodedBatch, of channel: ChannelName) -> Int {
        guard !isClosing, let index = subscriptions.index(forKey: channel) else { return 0 }
        var subscription = subscriptions.values[index]
        if !subscription.isCatchingUp, settings.deflate == nil, batch.firstOffset == subscription.delivered + 1 {
            // In step: the whole batch in one write of the buffer every such subscriber shares.
            writeRaw(batch.joinedWebSocketFrames)
            subscriptions.values[index].delivered = batch.lastOffset
            outbound.eventsInBatch += batch.events.count
            return batch.events.count
        }
        let events = batch.events
        var written = 0
        for encoded in events {
            let offset = encoded.offset
            if subscription.isCatchingUp {
                subscription.liveHighWater = max(subscription.liveHighWater, offset)
                continue
            }
            if offset <= subscription.delivered { continue }
            if offset != subscription.delivered + 1 {
                subscription.isCatchingUp = true
                subscription.liveHighWater = max(subscription.liveHighWater, events.last?.offset ?? offset)
                subscriptions.values[index] = subscription
                // continueCatchUp updates the stored subscription itself.
                continueCatchUp(channel)
                outbound.eventsInBatch += written
                return written
            }
            if settings.deflate != nil, let allocator = context?.channel.allocator,
                let compressed = encoded.deflatedWebSocketFrame.frame(allocator: allocator)
            {
                writeRaw(compressed)
            } else {
                writeRaw(encoded.webSocketFrame)
            }
            subscription.delivered = offset
            written += 1
        }
        subscriptions.values[index] = subscription
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
        channelsAwaitingWritability.removeAll { $0 == channel }
        guard subscriptions.removeValue(forKey: channel) != nil else { return false }
        engine.hub.unsubscribe(self, from: channel)
        leavePresence(channel)
        return true
    }
}

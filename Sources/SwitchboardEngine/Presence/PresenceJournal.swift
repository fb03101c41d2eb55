import Logging
import NIOConcurrencyHelpers
import Prometheus
public import ServiceLifecycle
import SwitchboardCore

/// Publishes server-written events in the order they happened, from one task: `presence.join` and
/// `presence.leave` on `$presence:<channel>`, or a node's `channel.occupied` and `channel.vacated` on
/// `$occupancy:<channel>`. They are recorded without waiting, and leave the server in batches.
///
/// The queue is bounded; past it, records are dropped, counted in the metrics and logged, rather than
/// holding memory without limit when the store is down.
public final class PresenceJournal: Service, Sendable {
    static let capacity = 10_000

    private let pending = NIOLockedValueBox<[EventDraft]>([])
    private let wake: AsyncStream<Void>
    private let wakeContinuation: AsyncStream<Void>.Continuation
    private let publish: @Sendable ([EventDraft]) async throws(SwitchboardError) -> Void
    private let prelude: @Sendable () async -> [EventDraft]
    private let dropped: Counter
    private let logger: Logger

    init(
        dropped: Counter,
        logger: Logger,
        prelude: @escaping @Sendable () async -> [EventDraft] = { [] },
        publish: @escaping @Sendable ([EventDraft]) async throws(SwitchboardError) -> Void
    ) {
        (wake, wakeContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.publish = publish
        self.prelude = prelude
        self.dropped = dropped
        self.logger = logger
    }

    func record(_ type: String, member: PresenceMember, channel: ChannelName) {
        guard let eventType = try? EventType(type) else { return }
        record(EventDraft(channel: channel.presenceJournal, type: eventType, data: member.json, idempotencyKey: nil))
    }

    /// Queues `draft` after those recorded before it.
    func record(_ draft: EventDraft) {
        let accepted = pending.withLockedValue { pending -> Bool in
            guard pending.count < Self.capacity else { return false }
            pending.append(draft)
            return true
        }
        if accepted {
            wakeContinuation.yield()
        } else {
            dropped.increment()
        }
    }

    /// Publishes the prelude's drafts ahead of everything recorded meanwhile, then until shutdown, then
    /// what is still queued.
    public func run() async {
        let first = await prelude()
        if !first.isEmpty {
            pending.withLockedValue { $0.insert(contentsOf: first, at: 0) }
            wakeContinuation.yield()
        }
        await cancelWhenGracefulShutdown {
            for await _ in self.wake {
                await self.drain()
            }
        }
        await drain()
    }

    private func drain() async {
        while true {
            let batch = pending.withLockedValue { pending -> [EventDraft] in
                let batch = Array(pending.prefix(1000))
                pending.removeFirst(batch.count)
                return batch
            }
            guard !batch.isEmpty else { return }
            do {
                try await publish(batch)
            } catch {
                dropped.increment(by: Int64(batch.count))
                logger.warning("journaling server events failed", metadata: ["sb.error": "\(error)"])
                return
            }
        }
    }
}

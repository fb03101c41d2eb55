import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import SwitchboardCore
import SwitchboardEngine
import SwitchboardStore

/// A history read that, when nothing is after the cursor, waits for the next event on the channel
/// (or until the server starts a graceful shutdown).
struct LongPoll: Sendable {
    let engine: Engine

    func read(channel: ChannelName, after: Int64, limit: Int, wait: TimeAmount) async throws -> HistoryPage {
        guard wait > .zero else { return try await readLog(channel, after, limit) }
        // Register before reading, so that an event committed between the read and the wait rings the bell.
        let waiter = engine.hub.makeWaiter(for: channel)
        defer { engine.hub.removeWaiter(waiter, for: channel) }
        // Like the wait below, a graceful shutdown does not wait for this.
        await cancelWhenGracefulShutdown { await engine.hub.ready(for: channel) }
        let page = try await readLog(channel, after, limit)
        guard page.events.isEmpty, !page.isTruncated else { return page }
        // A graceful shutdown ends the wait at once, as a wait that ran out: the client polls again and
        // reaches the next instance, and shutdown is not held up for as long as `wait` (up to a minute).
        engine.metrics.longPollsWaiting.increment()
        await cancelWhenGracefulShutdown { await waiter.wait(timeout: wait, ambient: engine.ambient) }
        engine.metrics.longPollsWaiting.decrement()
        return try await readLog(channel, after, limit)
    }

    private func readLog(_ channel: ChannelName, _ after: Int64, _ limit: Int) async throws -> HistoryPage {
        do {
            return try await engine.log.read(
                channel: channel,
                after: after,
                limit: limit,
                maximumBytes: engine.configuration.limits.maximumPageBytes
            )
        } catch {
            throw SwitchboardError(.unavailable, "the event log is unavailable")
        }
    }
}

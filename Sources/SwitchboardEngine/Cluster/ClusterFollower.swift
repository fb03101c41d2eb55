public import Logging
import NIOConcurrencyHelpers
public import ServiceLifecycle
public import SwitchboardCore
public import SwitchboardStore

/// Brings the events other nodes commit to this node's Hub, when several nodes share one store: it
/// follows each channel that has a local reader, executes what `ClusterSequencer` decides, and polls
/// the heads of the followed channels every `pollInterval` (and at once when the doorbell asks for a
/// catch-up), so that a lost notification only delays an event, never loses it.
///
/// A channel is anchored before its first reader reads the log: the follower reads the channel's head
/// after the reader registered with the Hub, and everything after that head reaches the Hub. The
/// reader's own read comes after (`Hub.ready(for:)` waits for the anchor), so it covers the rest.
///
/// Every hand-over to the Hub happens under the follower's lock, so each channel's events reach the
/// Hub in offset order, once.
public final class ClusterFollower: ChannelInterest, Service {
    private struct Anchoring {
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        /// Local events committed while the head is read: those after it are delivered once anchored.
        var local: [Event] = []
    }

    private struct State {
        var sequencer: ClusterSequencer
        /// Local readers per channel (a count, not a set: retains and releases from different threads
        /// may arrive in either order, so it may dip below zero for a moment).
        var readers: [ChannelName: Int] = [:]
        var anchoring: [ChannelName: Anchoring] = [:]
        var nextWaiter = 0
    }

    private enum Work: Sendable {
        case anchor(ChannelName)
        case read(ChannelName, after: Int64)
    }

    private let log: any EventLog
    private let hub: Hub
    private let pollInterval: Duration
    private let maximumPageBytes: Int
    private let maximumHeld: Int
    private let logger: Logger
    private let state: NIOLockedValueBox<State>
    private let work: AsyncStream<Work>
    /// Ends the poll loop's wait early: the doorbell asked for a catch-up.
    private let pollBell = WakeSignal()
    private let submit: AsyncStream<Work>.Continuation

    /// Follows `log` for `hub`'s channels; `maximumHeld` bounds the local events held per channel while
    /// a gap before them is read.
    public init(
        log: any EventLog,
        hub: Hub,
        pollInterval: Duration,
        maximumPageBytes: Int,
        maximumHeld: Int = 1000,
        logger: Logger
    ) {
        self.log = log
        self.hub = hub
        self.pollInterval = pollInterval
        self.maximumPageBytes = maximumPageBytes
        self.maximumHeld = maximumHeld
        self.logger = logger
        self.state = NIOLockedValueBox(State(sequencer: ClusterSequencer(maximumHeld: maximumHeld)))
        (work, submit) = AsyncStream.makeStream(of: Work.self)
    }

    // MARK: What the Hub says

    /// A local reader of `channel` registered.
    public func retain(_ channel: ChannelName) {
        let startsAnchoring = state.withLockedValue { state -> Bool in
            let count = (state.readers[channel] ?? 0) + 1
            state.readers[channel] = count == 0 ? nil : count
            guard count == 1 else { return false }
            state.anchoring[channel] = Anchoring()
            return true
        }
        if startsAnchoring { submit.yield(.anchor(channel)) }
    }

    /// A local reader of `channel` left.
    public func release(_ channel: ChannelName) {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            let count = (state.readers[channel] ?? 0) - 1
            state.readers[channel] = count == 0 ? nil : count
            guard count == 0 else { return [] }
            state.sequencer.unfollow(channel)
            return Array(state.anchoring.removeValue(forKey: channel)?.waiters.values ?? [:].values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once `channel` is anchored (or its anchoring read failed: the reader's own read then
    /// reports the store's trouble), or the task is cancelled (a graceful shutdown ends a long-poll).
    public func anchored(_ channel: ChannelName) async {
        let id = state.withLockedValue { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let waits = state.withLockedValue { state -> Bool in
                    guard state.anchoring[channel] != nil, !Task.isCancelled else { return false }
                    state.anchoring[channel]?.waiters[id] = continuation
                    return true
                }
                if !waits { continuation.resume() }
            }
        } onCancel: {
            state.withLockedValue { $0.anchoring[channel]?.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    // MARK: What the store says

    /// This node committed `events` (in commit order).
    public func committedHere(_ events: [Event]) {
        let reads = state.withLockedValue { state -> [Work] in
            for event in events where (state.anchoring[event.channel]?.local.count ?? .max) < maximumHeld {
                // Past the bound the poll's head sends the follower to the log for them.
                state.anchoring[event.channel]?.local.append(event)
            }
            return perform(state.sequencer.committedHere(events))
        }
        for read in reads { submit.yield(read) }
    }

    /// The doorbell rang.
    public func heard(_ news: DoorbellNews) {
        switch news {
        case .catchUp:
            pollBell.ring()
        case .heads(let heads):
            let reads = state.withLockedValue { state -> [Work] in
                heads.flatMap { channel, head in perform(state.sequencer.heard(channel, head: head)) }
            }
            for read in reads { submit.yield(read) }
        }
    }

    // MARK: Running

    /// Polls and carries out anchors and reads until cancelled or a graceful shutdown.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.pollUntilCancelled() }
                for await item in self.work {
                    group.addTask { await self.carryOut(item) }
                }
            }
        }
    }

    private func pollUntilCancelled() async {
        while !Task.isCancelled {
            await poll()
            // The poll interval, or sooner when the doorbell asks for a catch-up.
            await pollBell.wait(upTo: pollInterval)
        }
    }

    /// Reads the heads of every channel followed or being anchored, and acts on them.
    private func poll() async {
        let channels = state.withLockedValue { Array($0.sequencer.followed.union($0.anchoring.keys)) }
        guard !channels.isEmpty else { return }
        let heads: [ChannelName: Int64]
        do {
            heads = try await log.heads(of: channels)
        } catch {
            logger.warning("polling the log's heads failed", metadata: ["sb.error": "\(StoreError.logText(error))"])
            return
        }
        for (channel, head) in heads { finishAnchoring(channel, at: head) }
        heard(.heads(heads))
    }

    private func carryOut(_ item: Work) async {
        switch item {
        case .anchor(let channel):
            do {
                finishAnchoring(channel, at: try await log.head(of: channel))
            } catch {
                // The next poll anchors it; meanwhile its readers go on and meet the store's trouble.
                logger.warning(
                    "reading a channel's head failed",
                    metadata: ["sb.error": "\(StoreError.logText(error))"]
                )
                let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
                    defer { state.anchoring[channel]?.waiters = [:] }
                    return Array(state.anchoring[channel]?.waiters.values ?? [:].values)
                }
                for waiter in waiters { waiter.resume() }
            }
        case .read(let channel, let after):
            let reads: [Work]
            do {
                let page = try await log.read(
                    channel: channel,
                    after: after,
                    limit: ChannelCatchUp.pageSize,
                    maximumBytes: maximumPageBytes
                )
                reads = state.withLockedValue { state in perform(state.sequencer.logRead(channel, page: page)) }
            } catch {
                logger.warning(
                    "reading another node's events failed",
                    metadata: ["sb.error": "\(StoreError.logText(error))"]
                )
                state.withLockedValue { $0.sequencer.readFailed(channel) }
                reads = []
            }
            for read in reads { submit.yield(read) }
        }
    }

    /// `channel` is anchored at `head`, read after its first reader registered.
    private func finishAnchoring(_ channel: ChannelName, at head: Int64) {
        let (waiters, reads) = state.withLockedValue { state -> ([CheckedContinuation<Void, Never>], [Work]) in
            guard let anchoring = state.anchoring.removeValue(forKey: channel) else { return ([], []) }
            state.sequencer.follow(channel, head: head)
            return (Array(anchoring.waiters.values), perform(state.sequencer.committedHere(anchoring.local)))
        }
        for waiter in waiters { waiter.resume() }
        for read in reads { submit.yield(read) }
    }

    /// Hands deliveries to the Hub (under the lock, so in order) and returns the reads to make.
    private func perform(_ actions: [ClusterSequencer.Action]) -> [Work] {
        var reads: [Work] = []
        for action in actions {
            switch action {
            case .deliver(let events): hub.publish(events)
            case .readLog(let channel, let after): reads.append(.read(channel, after: after))
            }
        }
        return reads
    }
}

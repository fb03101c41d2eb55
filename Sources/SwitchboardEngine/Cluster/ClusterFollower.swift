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
        var waiters: [CheckedContinuation<Void, Never>] = []
        /// Local events committed while the head is read: those after it are delivered once anchored.
        var local: [Event] = []
    }

    private struct State {
        var sequencer: ClusterSequencer
        /// Local readers per channel (a count, not a set: retains and releases from different threads
        /// may arrive in either order, so it may dip below zero for a moment).
        var readers: [ChannelName: Int] = [:]
        var anchoring: [ChannelName: Anchoring] = [:]
        /// A poll was asked for while none was awaited: the next wait ends at once.
        var pollRequested = false
        /// The poll loop, waiting for its interval or a request.
        var pollWaiter: CheckedContinuation<Void, Never>?
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
            return state.anchoring.removeValue(forKey: channel)?.waiters ?? []
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once `channel` is anchored (or its anchoring read failed: the reader's own read then
    /// reports the store's trouble).
    public func anchored(_ channel: ChannelName) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let waits = state.withLockedValue { state -> Bool in
                guard state.anchoring[channel] != nil else { return false }
                state.anchoring[channel]?.waiters.append(continuation)
                return true
            }
            if !waits { continuation.resume() }
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
            requestPoll()
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
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await Task.sleep(for: self.pollInterval) }
                group.addTask { await self.pollRequested() }
                _ = await group.next()
                group.cancelAll()
            }
        }
    }

    /// Ends the poll loop's current wait (or the next one, when it is polling now).
    private func requestPoll() {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.pollWaiter else {
                state.pollRequested = true
                return nil
            }
            state.pollWaiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns when a poll is requested, or the task is cancelled.
    private func pollRequested() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLockedValue { state -> Bool in
                    if state.pollRequested || Task.isCancelled {
                        state.pollRequested = false
                        return true
                    }
                    state.pollWaiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            state.withLockedValue { state in
                defer { state.pollWaiter = nil }
                return state.pollWaiter
            }?.resume()
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
            logger.warning("polling the log's heads failed", metadata: ["sb.error": "\(error)"])
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
                logger.warning("reading a channel's head failed", metadata: ["sb.error": "\(error)"])
                let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
                    defer { state.anchoring[channel]?.waiters = [] }
                    return state.anchoring[channel]?.waiters ?? []
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
                logger.warning("reading another node's events failed", metadata: ["sb.error": "\(error)"])
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
            return (anchoring.waiters, perform(state.sequencer.committedHere(anchoring.local)))
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

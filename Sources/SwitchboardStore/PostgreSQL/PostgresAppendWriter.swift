public import ServiceLifecycle
import SwitchboardCore

/// The node's one writer of events: appends that arrive while a transaction is in flight are
/// committed together in the next one (group commit), so a burst of publishes shares one commit.
///
/// It is a `Service`: its `run()` must be running for appends to complete. On graceful shutdown it
/// commits every append already submitted, then refuses new ones. Waiting appends are bounded in
/// bytes (`GroupCommitQueue`).
public final class PostgresAppendWriter: Service, Sendable {
    private let queue: GroupCommitQueue<PendingAppend>
    private let appender: PostgresAppender
    private let maximumGroupEvents: Int

    init(appender: PostgresAppender, maximumGroupEvents: Int, maximumQueuedBytes: Int) {
        self.appender = appender
        self.maximumGroupEvents = maximumGroupEvents
        self.queue = GroupCommitQueue(maximumAppendBytes: maximumQueuedBytes)
    }

    /// Appends drafts in the next group commit and calls `completion` with the outcome.
    func append(_ drafts: [EventDraft], then completion: @escaping @Sendable (Result<AppendOutcome, any Error>) -> Void)
    {
        queue.enqueueAppend(PendingAppend(drafts: drafts, completion: completion), as: { $0 })
    }

    /// Stops accepting appends; those already queued are still committed.
    public func close() {
        queue.close()
    }

    /// The writer loop.
    public func run() async throws {
        var appender = appender
        await withTaskCancellationOrGracefulShutdownHandler {
            while true {
                let pending = await queue.next()
                if pending.isEmpty { break }
                var group: [PendingAppend] = []
                var groupEvents = 0
                for append in pending {
                    if groupEvents + append.drafts.count > maximumGroupEvents, !group.isEmpty {
                        await appender.commit(group)
                        group.removeAll(keepingCapacity: true)
                        groupEvents = 0
                    }
                    group.append(append)
                    groupEvents += append.drafts.count
                }
                if !group.isEmpty { await appender.commit(group) }
            }
        } onCancelOrGracefulShutdown: {
            self.close()
        }
    }
}

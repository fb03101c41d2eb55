import Logging
import NIOConcurrencyHelpers
import NIOCore
public import SQLiteNIO
public import ServiceLifecycle
public import SwitchboardCore

/// The single writer of the embedded database. Every write runs on its loop, one at a time; appends
/// that arrive while a commit is in flight are committed together in the next transaction, so a burst
/// of publishes shares one fsync (group commit). A group commit is one call onto the writer's own
/// thread (`SQLiteAppendThread`), with statements prepared once; the other writes (admin records,
/// deliveries, trims) run between commits on the SQLiteNIO connection.
///
/// It is a `Service`: its `run()` must be running for writes to complete. On graceful shutdown it
/// finishes every job already submitted, then refuses new ones. The appends waiting for it are bounded
/// in bytes (`GroupCommitQueue`).
public final class SQLiteWriter: Service, Sendable {
    enum Job: Sendable {
        case append(PendingAppend)
        case exclusive(@Sendable (SQLiteConnection) async -> Void)
    }

    private let connection: SQLiteConnection
    /// The thread appends are committed on, with its own connection (statements prepared once).
    private let appendThread: SQLiteAppendThread?
    private let logger: Logger
    private let queue: GroupCommitQueue<Job>
    private let appenderSetup = NIOLockedValueBox<SQLiteAppender?>(nil)

    init(
        connection: SQLiteConnection,
        appendThread: SQLiteAppendThread?,
        maximumQueuedBytes: Int = 64 << 20,
        logger: Logger
    ) {
        self.connection = connection
        self.appendThread = appendThread
        self.queue = GroupCommitQueue(maximumAppendBytes: maximumQueuedBytes)
        self.logger = logger
    }

    /// Installs the append logic; done once by `SQLiteEventLog` before `run()`.
    func install(_ appender: SQLiteAppender) {
        appenderSetup.withLockedValue { $0 = appender }
    }

    /// Appends drafts in the next group commit and calls `completion` with the outcome, on the writer's
    /// loop (or at once when the append is refused).
    func append(_ drafts: [EventDraft], then completion: @escaping @Sendable (Result<AppendOutcome, any Error>) -> Void)
    {
        queue.enqueueAppend(PendingAppend(drafts: drafts, completion: completion), as: Job.append)
    }

    /// Runs `body` alone on the writer connection, between group commits.
    public func exclusive<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) async throws -> T) async throws
        -> T
    {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = Job.exclusive { connection in
                do {
                    continuation.resume(returning: try await body(connection))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            if !queue.enqueue(job) { continuation.resume(throwing: StoreError("the store is shutting down")) }
        }
    }

    /// Stops accepting jobs; those already queued still run.
    public func close() {
        queue.close()
    }

    /// The writer loop.
    public func run() async throws {
        // Without an event log attached (tools that only touch admin records), appends are refused.
        var appender = appenderSetup.withLockedValue({ $0 }) ?? SQLiteAppender.refusingAppends
        await withTaskCancellationOrGracefulShutdownHandler {
            while true {
                let jobs = await queue.next()
                if jobs.isEmpty { break }
                var group: [PendingAppend] = []
                var groupEvents = 0
                for job in jobs {
                    switch job {
                    case .append(let pending):
                        if groupEvents + pending.drafts.count > appender.maximumGroupEvents, !group.isEmpty {
                            await appender.commit(group, on: appendThread, logger: logger)
                            group.removeAll(keepingCapacity: true)
                            groupEvents = 0
                        }
                        group.append(pending)
                        groupEvents += pending.drafts.count
                    case .exclusive(let body):
                        if !group.isEmpty {
                            await appender.commit(group, on: appendThread, logger: logger)
                            group.removeAll(keepingCapacity: true)
                            groupEvents = 0
                        }
                        await body(connection)
                    }
                }
                if !group.isEmpty {
                    await appender.commit(group, on: appendThread, logger: logger)
                }
            }
        } onCancelOrGracefulShutdown: {
            self.close()
        }
    }
}

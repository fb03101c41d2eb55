import Logging
import NIOConcurrencyHelpers
import NIOCore
public import SQLiteNIO
public import ServiceLifecycle
public import SwitchboardCore

/// The single writer of the embedded database. Every write runs on its loop, one at a time; appends
/// that arrive while a commit is in flight are committed together in the next transaction, so a burst
/// of publishes shares one fsync (group commit).
///
/// It is a `Service`: its `run()` must be running for writes to complete. On graceful shutdown it
/// finishes every job already submitted, then refuses new ones. The appends waiting for it are bounded
/// in bytes: past the bound an append is refused at once (`unavailable`, retry after a second) and
/// nothing of it is stored, so a burst the disk cannot keep up with never grows memory without end.
public final class SQLiteWriter: Service, Sendable {
    enum Job: Sendable {
        case append(PendingAppend)
        case exclusive(@Sendable (SQLiteConnection) async -> Void)
    }

    private struct Queue {
        var jobs: [Job] = []
        var waiter: CheckedContinuation<Void, Never>?
        var isClosed = false
        /// Bytes of the appends in `jobs`.
        var appendBytes = 0
    }

    /// What one queued draft counts for: its data and a fixed amount for the rest.
    static func queuedBytes(_ drafts: [EventDraft]) -> Int {
        drafts.reduce(0) { $0 + $1.data.utf8.count + 256 }
    }

    private let connection: SQLiteConnection
    private let logger: Logger
    private let queue = NIOLockedValueBox(Queue())
    private let appenderSetup = NIOLockedValueBox<SQLiteAppender?>(nil)

    private let maximumQueuedBytes: Int

    init(connection: SQLiteConnection, maximumQueuedBytes: Int = 64 << 20, logger: Logger) {
        self.connection = connection
        self.maximumQueuedBytes = maximumQueuedBytes
        self.logger = logger
    }

    /// Installs the append logic; done once by `SQLiteEventLog` before `run()`.
    func install(_ appender: SQLiteAppender) {
        appenderSetup.withLockedValue { $0 = appender }
    }

    /// Appends drafts in the next group commit.
    func append(_ drafts: [EventDraft]) async throws -> AppendOutcome {
        let bytes = Self.queuedBytes(drafts)
        let maximum = maximumQueuedBytes
        let fits = queue.withLockedValue { queue -> Bool in
            // An empty queue takes any append, so that one large batch is never refused for good.
            guard queue.appendBytes == 0 || queue.appendBytes + bytes <= maximum else { return false }
            queue.appendBytes += bytes
            return true
        }
        guard fits else {
            throw SwitchboardError(
                .unavailable,
                "the store is behind on writes; nothing was stored, retry shortly",
                retryAfterSeconds: 1
            )
        }
        return try await withCheckedThrowingContinuation { continuation in
            enqueue(.append(PendingAppend(drafts: drafts, continuation: continuation))) {
                queue.withLockedValue { $0.appendBytes -= bytes }
                continuation.resume(throwing: StoreError("the store is shutting down"))
            }
        }
    }

    /// Runs `body` alone on the writer connection, between group commits.
    public func exclusive<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) async throws -> T) async throws
        -> T
    {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            enqueue(
                .exclusive({ connection in
                    do {
                        continuation.resume(returning: try await body(connection))
                    } catch {
                        continuation.resume(throwing: error)
                    }
                })
            ) {
                continuation.resume(throwing: StoreError("the store is shutting down"))
            }
        }
    }

    private func enqueue(_ job: Job, refused: () -> Void) {
        let (accepted, waiter) = queue.withLockedValue { queue -> (Bool, CheckedContinuation<Void, Never>?) in
            guard !queue.isClosed else { return (false, nil) }
            queue.jobs.append(job)
            let waiter = queue.waiter
            queue.waiter = nil
            return (true, waiter)
        }
        guard accepted else { return refused() }
        waiter?.resume()
    }

    /// Stops accepting jobs; those already queued still run.
    public func close() {
        let waiter = queue.withLockedValue { queue -> CheckedContinuation<Void, Never>? in
            queue.isClosed = true
            let waiter = queue.waiter
            queue.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    private func nextJobs() async -> [Job] {
        while true {
            let taken = queue.withLockedValue { queue -> [Job]? in
                if !queue.jobs.isEmpty {
                    defer {
                        queue.jobs.removeAll(keepingCapacity: true)
                        queue.appendBytes = 0
                    }
                    return queue.jobs
                }
                return queue.isClosed ? [] : nil
            }
            if let taken { return taken }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = queue.withLockedValue { queue -> Bool in
                    if !queue.jobs.isEmpty || queue.isClosed { return true }
                    queue.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    /// The writer loop.
    public func run() async throws {
        // Without an event log attached (tools that only touch admin records), appends are refused.
        var appender = appenderSetup.withLockedValue({ $0 }) ?? SQLiteAppender.refusingAppends
        await withTaskCancellationOrGracefulShutdownHandler {
            while true {
                let jobs = await nextJobs()
                if jobs.isEmpty { break }
                var group: [PendingAppend] = []
                var groupEvents = 0
                for job in jobs {
                    switch job {
                    case .append(let pending):
                        if groupEvents + pending.drafts.count > appender.maximumGroupEvents, !group.isEmpty {
                            await appender.commit(group, on: connection, logger: logger)
                            group.removeAll(keepingCapacity: true)
                            groupEvents = 0
                        }
                        group.append(pending)
                        groupEvents += pending.drafts.count
                    case .exclusive(let body):
                        if !group.isEmpty {
                            await appender.commit(group, on: connection, logger: logger)
                            group.removeAll(keepingCapacity: true)
                            groupEvents = 0
                        }
                        await body(connection)
                    }
                }
                if !group.isEmpty {
                    await appender.commit(group, on: connection, logger: logger)
                }
            }
        } onCancelOrGracefulShutdown: {
            self.close()
        }
    }
}

/// One `append` call waiting for its group commit.
struct PendingAppend: Sendable {
    let drafts: [EventDraft]
    let continuation: CheckedContinuation<AppendOutcome, any Error>
}

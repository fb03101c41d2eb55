import NIOConcurrencyHelpers
import SwitchboardCore

/// The jobs waiting for a store's single writer loop, which takes all of them at once so that appends
/// that arrived during one commit share the next (group commit).
///
/// The appends waiting are bounded in bytes: past the bound an append is refused at once
/// (`unavailable`, retry after a second) and nothing of it is stored, so a burst the database cannot
/// keep up with never grows memory without end. Once closed, jobs are refused and the loop is handed
/// what is left, then nothing.
final class GroupCommitQueue<Job: Sendable>: Sendable {
    private struct State {
        var jobs: [Job] = []
        var waiter: CheckedContinuation<Void, Never>?
        var isClosed = false
        /// Bytes of the appends in `jobs`.
        var appendBytes = 0
    }

    private let state = NIOLockedValueBox(State())
    private let maximumAppendBytes: Int

    init(maximumAppendBytes: Int) {
        self.maximumAppendBytes = maximumAppendBytes
    }

    /// What one queued draft counts for: its data and a fixed amount for the rest.
    private static func queuedBytes(_ drafts: [EventDraft]) -> Int {
        drafts.reduce(0) { $0 + $1.data.utf8.count + 256 }
    }

    /// Counts `bytes` of an append about to be enqueued; throws `unavailable` past the bound. An empty
    /// queue takes any append, so that one large batch is never refused for good.
    private func reserve(appendBytes bytes: Int) throws(SwitchboardError) {
        let maximum = maximumAppendBytes
        let fits = state.withLockedValue { state -> Bool in
            guard state.appendBytes == 0 || state.appendBytes + bytes <= maximum else { return false }
            state.appendBytes += bytes
            return true
        }
        guard fits else {
            throw SwitchboardError(
                .unavailable,
                "the store is behind on writes; nothing was stored, retry shortly",
                retryAfterSeconds: 1
            )
        }
    }

    /// Gives back bytes reserved for an append that was not enqueued.
    private func release(appendBytes bytes: Int) {
        state.withLockedValue { $0.appendBytes -= bytes }
    }

    /// Queues an append as the job `job(pending)`: its bytes counted against the bound, or `pending`
    /// refused at once (`unavailable` past the bound, a store error once closed) with nothing queued.
    func enqueueAppend(_ pending: PendingAppend, as job: (PendingAppend) -> Job) {
        let bytes = Self.queuedBytes(pending.drafts)
        do {
            try reserve(appendBytes: bytes)
        } catch {
            return pending.resume(throwing: error)
        }
        if !enqueue(job(pending)) {
            release(appendBytes: bytes)
            pending.resume(throwing: StoreError("the store is shutting down"))
        }
    }

    /// Adds `job` for the writer loop; false once the queue is closed.
    func enqueue(_ job: Job) -> Bool {
        let (accepted, waiter) = state.withLockedValue { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard !state.isClosed else { return (false, nil) }
            state.jobs.append(job)
            let waiter = state.waiter
            state.waiter = nil
            return (true, waiter)
        }
        waiter?.resume()
        return accepted
    }

    /// Refuses further jobs; those already queued are still handed out.
    func close() {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            state.isClosed = true
            let waiter = state.waiter
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Every job queued, waiting for one when there is none; empty once closed and drained.
    func next() async -> [Job] {
        while true {
            let taken = state.withLockedValue { state -> [Job]? in
                if !state.jobs.isEmpty {
                    defer {
                        state.jobs.removeAll(keepingCapacity: true)
                        state.appendBytes = 0
                    }
                    return state.jobs
                }
                return state.isClosed ? [] : nil
            }
            if let taken { return taken }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLockedValue { state -> Bool in
                    if !state.jobs.isEmpty || state.isClosed { return true }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }
}

/// One `append` call waiting for its group commit, and what to call with its outcome (exactly once).
struct PendingAppend: Sendable {
    let drafts: [EventDraft]
    let completion: @Sendable (Result<AppendOutcome, any Error>) -> Void

    func resume(with outcome: Result<AppendOutcome, any Error>) {
        completion(outcome)
    }

    func resume(throwing error: any Error) {
        completion(.failure(error))
    }
}

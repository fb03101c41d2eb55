import NIOConcurrencyHelpers
import SwitchboardCore

/// Writes finished attempts in batches: while one batch commits, the next collects, so a thousand
/// attempts finishing together share a few transactions instead of a thousand. The backend supplies
/// the write of one batch; the batching is the same for every backend.
final class AttemptBatcher: Sendable {
    /// One `record` call waiting for its batch.
    struct Pending: Sendable {
        let results: [AttemptResult]
        let now: Timestamp
        let disableFailingAfter: Duration
        let continuation: CheckedContinuation<[DisabledEndpoint], any Error>
    }

    /// Writes a batch in one transaction; returns, per pending call, the endpoints it disabled.
    typealias Write = @Sendable ([Pending]) async throws -> [[DisabledEndpoint]]

    private struct State {
        var pending: [Pending] = []
        var isFlushing = false
    }

    private let write: Write
    private let state = NIOLockedValueBox(State())

    init(write: @escaping Write) {
        self.write = write
    }

    func record(_ results: [AttemptResult], now: Timestamp, disableFailingAfter: Duration) async throws
        -> [DisabledEndpoint]
    {
        guard !results.isEmpty else { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            let startsFlush = state.withLockedValue { state -> Bool in
                state.pending.append(
                    Pending(
                        results: results,
                        now: now,
                        disableFailingAfter: disableFailingAfter,
                        continuation: continuation
                    )
                )
                guard !state.isFlushing else { return false }
                state.isFlushing = true
                return true
            }
            if startsFlush {
                Task { await self.flushUntilEmpty() }
            }
        }
    }

    private func flushUntilEmpty() async {
        while true {
            let batch = state.withLockedValue { state -> [Pending] in
                let batch = state.pending
                state.pending.removeAll()
                if batch.isEmpty { state.isFlushing = false }
                return batch
            }
            if batch.isEmpty { return }
            do {
                let disabled = try await write(batch)
                for (pending, endpoints) in zip(batch, disabled) { pending.continuation.resume(returning: endpoints) }
            } catch {
                for pending in batch { pending.continuation.resume(throwing: error) }
            }
        }
    }
}

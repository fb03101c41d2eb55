import Prometheus
public import SwitchboardCore
public import SwitchboardStore

/// The one path every event takes into the log. Callers have validated and authorized the drafts;
/// the publisher appends them (all or nothing), records metrics, and returns receipts once durable.
/// Committed events reach the Hub through the log's commit observer, in commit order.
public struct Publisher: Sendable {
    private let log: any EventLog
    private let metrics: EngineMetrics

    /// Makes a publisher over `log`.
    public init(log: any EventLog, metrics: EngineMetrics) {
        self.log = log
        self.metrics = metrics
    }

    /// Appends `drafts`; throws `SwitchboardError(.unavailable)` when the store cannot commit.
    public func publish(_ drafts: [EventDraft]) async throws(SwitchboardError) -> [AppendReceipt] {
        let start = ContinuousClock.now
        let outcome: Result<AppendOutcome, any Error>
        do {
            outcome = .success(try await log.append(drafts))
        } catch {
            outcome = .failure(error)
        }
        return try receipts(of: outcome, startedAt: start).get()
    }

    /// Appends `drafts` as `publish(_:)` does and calls `completion` with the receipts, on whatever
    /// thread the commit finishes on: the way in for callers on an event loop, without a task per call.
    public func publish(
        _ drafts: [EventDraft],
        then completion: @escaping @Sendable (Result<[AppendReceipt], SwitchboardError>) -> Void
    ) {
        let start = ContinuousClock.now
        log.append(drafts) { outcome in
            completion(receipts(of: outcome, startedAt: start))
        }
    }

    /// Records a finished append's metrics; a store failure becomes `unavailable`.
    private func receipts(of outcome: Result<AppendOutcome, any Error>, startedAt start: ContinuousClock.Instant)
        -> Result<[AppendReceipt], SwitchboardError>
    {
        switch outcome {
        case .failure(let refusal as SwitchboardError):
            return .failure(refusal)
        case .failure:
            return .failure(
                SwitchboardError(.unavailable, "the event log could not commit; retry with the same Idempotency-Key")
            )
        case .success(let outcome):
            metrics.publishLatency.record(ContinuousClock.now - start)
            metrics.eventsPublished.increment(by: Int64(outcome.appended.count))
            let replayed = outcome.receipts.count - outcome.appended.count
            if replayed > 0 { metrics.publishesReplayed.increment(by: Int64(replayed)) }
            return .success(outcome.receipts)
        }
    }
}

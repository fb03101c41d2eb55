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
        let outcome: AppendOutcome
        do {
            outcome = try await log.append(drafts)
        } catch let refusal as SwitchboardError {
            throw refusal
        } catch {
            throw SwitchboardError(.unavailable, "the event log could not commit; retry with the same Idempotency-Key")
        }
        metrics.publishLatency.record(ContinuousClock.now - start)
        metrics.eventsPublished.increment(by: Int64(outcome.appended.count))
        let replayed = outcome.receipts.count - outcome.appended.count
        if replayed > 0 { metrics.publishesReplayed.increment(by: Int64(replayed)) }
        return outcome.receipts
    }
}

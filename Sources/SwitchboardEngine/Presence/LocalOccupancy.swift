import Logging
import SwitchboardCore
import SwitchboardStore

/// Channel occupancy on a node alone: the hub's first-subscriber and last-subscriber changes journaled
/// on `$occupancy:<channel>` (`channel.occupied`, `channel.vacated`) in the order they happened. At
/// start, the channels a crash left occupied are vacated first. (Nodes sharing a store use
/// `SharedOccupancy`.)
enum LocalOccupancy {
    /// The journal, publishing with `publish`.
    static func journal(
        of log: any EventLog,
        metrics: EngineMetrics,
        logger: Logger,
        publish: @escaping @Sendable ([EventDraft]) async throws(SwitchboardError) -> Void
    ) -> PresenceJournal {
        PresenceJournal(
            dropped: metrics.occupancyRecordsDropped,
            logger: logger,
            prelude: { await vacatingLeftovers(of: log, logger: logger) },
            publish: publish
        )
    }

    /// The hub's observer, recording each change in `journal`.
    static func observer(recordingIn journal: PresenceJournal) -> Hub.OccupancyObserver {
        let (occupied, vacated) = (PusherWebhook.occupiedType, PusherWebhook.vacatedType)
        return { channel, isOccupied in
            journal.record(
                EventDraft(
                    channel: channel.occupancyJournal,
                    type: isOccupied ? occupied : vacated,
                    data: "{}",
                    idempotencyKey: nil
                )
            )
        }
    }

    /// `channel.vacated` for every channel the log still has occupied: a node alone starts with no
    /// subscriber, and a crash (no graceful shutdown) left its channels occupied. Read before the
    /// journal publishes anything of this run, so they go first.
    private static func vacatingLeftovers(of log: any EventLog, logger: Logger) async -> [EventDraft] {
        do {
            let channels = try await log.channels(
                withPrefix: ChannelName.occupancyPrefix,
                endingWith: PusherWebhook.occupiedType
            )
            return channels.map {
                EventDraft(channel: $0, type: PusherWebhook.vacatedType, data: "{}", idempotencyKey: nil)
            }
        } catch {
            logger.warning(
                "reading the channels left occupied failed",
                metadata: ["sb.error": "\(StoreError.logText(error))"]
            )
            return []
        }
    }
}

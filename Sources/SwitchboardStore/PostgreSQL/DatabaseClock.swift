import NIOConcurrencyHelpers
import PostgresNIO
public import SwitchboardCore

/// The database server's clock as this node estimates it: leases are written and judged in the
/// database's time, so nodes whose own clocks disagree still agree on when a lease ends.
///
/// The node reads `clock_timestamp()` and its own clock (`now`, the engine's wall clock) around one
/// query and keeps the difference, taking the middle of the round trip; it measures at open and again
/// whenever the doorbell's listener (re)connects. Until measured the offset is zero: the node's clock.
public final class DatabaseClock: Sendable {
    private let now: @Sendable () -> Timestamp
    private let offset = NIOLockedValueBox<Int64>(0)

    /// A clock that converts times read from `now`.
    public init(now: @escaping @Sendable () -> Timestamp) {
        self.now = now
    }

    /// The database's time, in milliseconds since the epoch, when this node's clock reads `time`.
    func databaseMilliseconds(at time: Timestamp) -> Int64 {
        time.millisecondsSinceEpoch + offset.withLockedValue { $0 }
    }

    /// Measures the offset on `storage`.
    public func measure(on storage: PostgresStorage) async throws {
        let before = now().millisecondsSinceEpoch
        let database = try await StoreDeadline.run("reading the database's clock") {
            let rows = try await storage.query("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint")
            var database: Int64?
            for try await value in rows.decode(Int64.self) { database = value }
            return database
        }
        let after = now().millisecondsSinceEpoch
        guard let database else { return }
        let middle = before + (after - before) / 2
        offset.withLockedValue { $0 = database - middle }
    }
}

import Foundation
import Logging
import PostgresNIO
import SQLiteNIO
public import SwitchboardCore
public import SwitchboardStore
import Synchronization

/// The store implementations the conformance suites run against: `@Test(arguments: StoreBackend.underTest)`.
///
/// A new backend adds a case here and a branch in each `switch` of `StoreFixture`;
/// the suites then run against it unchanged.
public enum StoreBackend: String, Sendable, CustomStringConvertible {
    /// The embedded SQLite database (`SQLiteStorage`, `SQLiteEventLog`, `SQLiteAdminStore`).
    case sqlite
    /// A PostgreSQL server (`PostgresStorage`, `PostgresEventLog`, `PostgresAdminStore`), named by
    /// `POSTGRES_TEST_URL`; each fixture gets a database of its own on it.
    case postgres

    public var description: String { rawValue }

    /// The environment variable naming the PostgreSQL server the tests may create databases on.
    public static let postgresVariable = "POSTGRES_TEST_URL"

    /// The backends under test: SQLite always; PostgreSQL when `POSTGRES_TEST_URL` is set,
    /// and always under CI (`CI` set), where a missing server then fails every PostgreSQL case
    /// instead of leaving it out.
    public static var underTest: [StoreBackend] {
        let environment = ProcessInfo.processInfo.environment
        let hasServer = !(environment[postgresVariable] ?? "").isEmpty
        return hasServer || !(environment["CI"] ?? "").isEmpty ? [.sqlite, .postgres] : [.sqlite]
    }

}

/// A clock the test sets: the store stamps events with `now`, and trims are run at chosen times.
public final class TestClock: Sendable {
    private let current: Mutex<Timestamp>

    /// Starts at `start` (2027-01-15T08:00:00Z by default).
    public init(start: Timestamp = Timestamp(millisecondsSinceEpoch: 1_800_000_000_000)) {
        current = Mutex(start)
    }

    /// The time now.
    public var now: Timestamp { current.withLock { $0 } }

    /// Moves the clock forward.
    public func advance(seconds: Int64) {
        current.withLock { $0 = Timestamp(millisecondsSinceEpoch: $0.millisecondsSinceEpoch + seconds * 1000) }
    }
}

/// Everything a store's commit observer was handed, in the order it was handed.
public final class CommitRecorder: Sendable {
    private let recorded = Mutex<[[Event]]>([])

    /// Makes an empty recorder.
    public init() {}

    /// One entry per observer call.
    public var batches: [[Event]] { recorded.withLock { $0 } }

    /// Every event observed, in observation order.
    public var events: [Event] { batches.flatMap { $0 } }

    /// Records one observer call.
    public func record(_ events: [Event]) {
        recorded.withLock { $0.append(events) }
    }
}

/// Where a store keeps its data between opens: for SQLite a temporary directory, for PostgreSQL a
/// database of its own on the test server.
public struct StoreLocation: Sendable {
    /// The implementation that owns the data.
    public let backend: StoreBackend
    fileprivate let directory: String
    fileprivate let database: PostgresAddress?

    /// Makes a fresh, empty location, runs `body`, then deletes the data.
    public static func withTemporary<T>(
        _ backend: StoreBackend,
        _ body: (StoreLocation) async throws -> T
    ) async throws -> T {
        switch backend {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.path + "/switchboard-store-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            return try await body(StoreLocation(backend: backend, directory: directory, database: nil))
        case .postgres:
            return try await TestDatabases.withTemporary { address in
                try await body(StoreLocation(backend: backend, directory: "", database: address))
            }
        }
    }
}

/// Settings of a test store; defaults as in production except durability (`normal`: tests need no fsync).
public struct StoreOptions: Sendable {
    /// How long idempotency keys are remembered, in seconds.
    public var idempotencyWindowSeconds: Int
    /// How long inbound delivery keys (`whin_…`) are remembered, in seconds.
    public var inboundDeduplicationSeconds: Int
    /// Most events one group commit takes.
    public var maximumGroupEvents: Int
    /// Commit durability.
    public var durability: StoreConfiguration.Durability
    /// Bytes of appends that may wait for the writer.
    public var maximumQueuedAppendBytes: Int = 64 << 20
    /// Called with committed events after the fixture's `CommitRecorder` saw them (e.g. a `Hub`).
    public var onCommit: @Sendable ([Event]) -> Void

    /// Makes options.
    public init(
        idempotencyWindowSeconds: Int = 86_400,
        inboundDeduplicationSeconds: Int = 604_800,
        maximumGroupEvents: Int = 4096,
        durability: StoreConfiguration.Durability = .normal,
        onCommit: @escaping @Sendable ([Event]) -> Void = { _ in }
    ) {
        self.idempotencyWindowSeconds = idempotencyWindowSeconds
        self.inboundDeduplicationSeconds = inboundDeduplicationSeconds
        self.maximumGroupEvents = maximumGroupEvents
        self.durability = durability
        self.onCommit = onCommit
    }
}

extension StoreOptions {
    /// The commit observer a fixture's log gets: `commits` records, then `onCommit` sees, each commit.
    func observer(recordingIn commits: CommitRecorder) -> @Sendable ([Event]) -> Void {
        let onCommit = onCommit
        return { events in
            commits.record(events)
            onCommit(events)
        }
    }

    /// The store configuration these options describe.
    func configuration(dataDirectory: String) -> StoreConfiguration {
        StoreConfiguration(
            dataDirectory: dataDirectory,
            durability: durability,
            idempotencyWindowSeconds: idempotencyWindowSeconds,
            inboundDeduplicationSeconds: inboundDeduplicationSeconds,
            maximumGroupEvents: maximumGroupEvents,
            maximumQueuedAppendBytes: maximumQueuedAppendBytes
        )
    }
}

/// An open store for one test: its `EventLog` and `AdminStore`, the commit observer's record, and the
/// clock that stamps events. Services the store needs (SQLite: the group-commit writer) run for the
/// duration of the body and are stopped, and the connections closed, when it ends.
public struct StoreFixture: Sendable {
    /// The implementation under test.
    public let backend: StoreBackend
    /// The event log.
    public let log: any EventLog
    /// The admin store, over the same database.
    public let adminStore: any AdminStore
    /// The webhook deliveries the log's outbox fills.
    public let deliveries: any DeliveryQueue
    /// What the log's commit observer received.
    public let commits: CommitRecorder
    /// The clock the log stamps events with.
    public let clock: TestClock
    /// Presence shared between nodes (PostgreSQL only), under a node name of this fixture's own.
    public let sharedPresence: (any SharedPresenceStore)?
    private let handle: Handle

    /// What the fixture holds on to, per backend, for fault injection and shutdown.
    private enum Handle: Sendable {
        case sqlite(SQLiteStorage)
        case postgres(PostgresStorage, PostgresEventLog)
    }

    /// Opens a store on fresh data, runs `body`, closes it and deletes the data.
    public static func with<T>(
        _ backend: StoreBackend,
        options: StoreOptions = StoreOptions(),
        clock: TestClock = TestClock(),
        _ body: (StoreFixture) async throws -> T
    ) async throws -> T {
        try await StoreLocation.withTemporary(backend) { location in
            try await open(at: location, options: options, clock: clock, body)
        }
    }

    /// Opens the store kept at `location` (creating it when empty), runs `body`, then closes it; the data
    /// stays for the next `open`.
    public static func open<T>(
        at location: StoreLocation,
        options: StoreOptions = StoreOptions(),
        clock: TestClock = TestClock(),
        _ body: (StoreFixture) async throws -> T
    ) async throws -> T {
        switch location.backend {
        case .sqlite:
            return try await openSQLite(directory: location.directory, options: options, clock: clock, body)
        case .postgres:
            guard let address = location.database else { throw StoreError("no test database") }
            return try await openPostgres(address: address, options: options, clock: clock, body)
        }
    }

    private static func openSQLite<T>(
        directory: String,
        options: StoreOptions,
        clock: TestClock,
        _ body: (StoreFixture) async throws -> T
    ) async throws -> T {
        let logger = quietLogger
        let configuration = options.configuration(dataDirectory: directory)
        let database = try await SQLiteStorage.open(configuration: configuration, logger: logger)
        let commits = CommitRecorder()
        let onCommit = options.observer(recordingIn: commits)
        let log = SQLiteEventLog(
            database: database,
            configuration: configuration,
            now: { clock.now },
            random: .system,
            onCommit: onCommit
        )
        let fixture = StoreFixture(
            backend: .sqlite,
            log: log,
            adminStore: SQLiteAdminStore(database: database),
            deliveries: SQLiteDeliveryQueue(database: database),
            commits: commits,
            clock: clock,
            sharedPresence: nil,
            handle: .sqlite(database)
        )
        let writer = database.writer
        return try await fixture.serve(
            writer: { try await writer.run() },
            stopWriter: { writer.close() },
            close: { await database.close() },
            body
        )
    }

    private static func openPostgres<T>(
        address: PostgresAddress,
        options: StoreOptions,
        clock: TestClock,
        _ body: (StoreFixture) async throws -> T
    ) async throws -> T {
        let logger = quietLogger
        let configuration = options.configuration(dataDirectory: "")
        let storage = try await PostgresStorage.open(address: address, maximumConnections: 8, logger: logger)
        let commits = CommitRecorder()
        let onCommit = options.observer(recordingIn: commits)
        let log = PostgresEventLog(
            storage: storage,
            configuration: configuration,
            now: { clock.now },
            random: .system,
            onCommit: onCommit
        )
        let databaseClock = DatabaseClock(now: { clock.now })
        try await databaseClock.measure(on: storage)
        let node = "node_" + UUID().uuidString
        let fixture = StoreFixture(
            backend: .postgres,
            log: log,
            adminStore: PostgresAdminStore(storage: storage),
            deliveries: PostgresDeliveryQueue(storage: storage, node: node, clock: databaseClock),
            commits: commits,
            clock: clock,
            sharedPresence: PostgresPresence(storage: storage, node: node, clock: databaseClock),
            handle: .postgres(storage, log)
        )
        let writer = log.writer
        return try await fixture.serve(
            writer: { try await writer.run() },
            stopWriter: { writer.close() },
            close: { await storage.close() },
            body
        )
    }

    /// A logger that only reports what is critical.
    private static var quietLogger: Logger {
        var logger = Logger(label: "store-fixture")
        logger.logLevel = .critical
        return logger
    }

    /// Runs the backend's group-commit writer while `body` uses the store; then stops the writer,
    /// waits for it, and closes the store, also when `body` throws.
    private func serve<T>(
        writer: @escaping @Sendable () async throws -> Void,
        stopWriter: @Sendable () -> Void,
        close: () async -> Void,
        _ body: (StoreFixture) async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask { try await writer() }
            do {
                let result = try await body(self)
                stopWriter()
                try await group.waitForAll()
                await close()
                return result
            } catch {
                stopWriter()
                try? await group.waitForAll()
                await close()
                throw error
            }
        }
    }

    /// Makes the store fail any transaction that would store an event of `type`, so that tests can
    /// check that a failed append leaves nothing behind.
    public func refuseEvents(ofType type: EventType) async throws {
        switch handle {
        case .sqlite(let database):
            // EventType allows only A-Z a-z 0-9 _ - . :, so it can be quoted into the statement as is.
            try await database.writer.exclusive { connection in
                _ = try await connection.query(
                    """
                    CREATE TRIGGER IF NOT EXISTS "refuse_\(type.rawValue)" BEFORE INSERT ON events
                    WHEN NEW.type = '\(type.rawValue)'
                    BEGIN SELECT RAISE(ABORT, 'refused by the test'); END
                    """
                )
            }
        case .postgres(let storage, _):
            try await storage.client.query(
                """
                CREATE OR REPLACE FUNCTION "refuse_\(unescaped: type.rawValue)"() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.type = '\(unescaped: type.rawValue)' THEN RAISE EXCEPTION 'refused by the test'; END IF;
                    RETURN NEW;
                END $$
                """
            )
            try await storage.client.query(
                """
                CREATE TRIGGER "refuse_\(unescaped: type.rawValue)" BEFORE INSERT ON events
                FOR EACH ROW EXECUTE FUNCTION "refuse_\(unescaped: type.rawValue)"()
                """
            )
        }
    }

    /// Keeps the writer busy until the returned closure is called, so that appends queue up behind it.
    public func holdWriter() async throws -> @Sendable () -> Void {
        switch handle {
        case .postgres(let storage, _):
            // A transaction holding the channels table: the writer's next append waits for it.
            let (started, startedContinuation) = AsyncStream<Void>.makeStream()
            let (release, releaseContinuation) = AsyncStream<Void>.makeStream()
            Task {
                try await storage.client.withTransaction(logger: Logger(label: "hold")) { connection in
                    try await connection.query("LOCK TABLE channels IN EXCLUSIVE MODE", logger: Logger(label: "hold"))
                    startedContinuation.yield()
                    for await _ in release { break }
                }
            }
            for await _ in started { break }
            return {
                releaseContinuation.yield()
                releaseContinuation.finish()
            }
        case .sqlite(let database):
            let (started, startedContinuation) = AsyncStream<Void>.makeStream()
            let (release, releaseContinuation) = AsyncStream<Void>.makeStream()
            Task {
                try await database.writer.exclusive { _ in
                    startedContinuation.yield()
                    for await _ in release { break }
                }
            }
            for await _ in started { break }
            return {
                releaseContinuation.yield()
                releaseContinuation.finish()
            }
        }
    }

    /// Stops the store accepting writes, as at shutdown: appends after this fail.
    public func stopWriting() {
        switch handle {
        case .sqlite(let database): database.writer.close()
        case .postgres(_, let log): log.writer.close()
        }
    }
}

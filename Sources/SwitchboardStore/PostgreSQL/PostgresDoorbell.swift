public import Logging
import NIOConcurrencyHelpers
import NIOSSL
import PostgresNIO
public import ServiceLifecycle
public import SwitchboardCore

/// This node's end of the doorbell that the nodes sharing one PostgreSQL database ring each other
/// with: after its commits a node says which channels reached which offsets (`DoorbellMessage`), and
/// it hears what the others committed.
///
/// PostgreSQL's `NOTIFY` takes a cluster-wide lock at commit that serialises every notifying
/// transaction, so the append transaction never notifies: commits only note their heads here, and one
/// `pg_notify` per `coalescing` interval, on a pooled connection of its own, carries them all.
///
/// The listener holds a dedicated connection (never a pooled one), and LISTENs before it reports
/// `.catchUp`, so nothing committed after the catch-up's poll is missed. A `SELECT 1` every
/// `healthInterval`, answered within `healthTimeout`, proves the connection alive; a connection that
/// ends or stops answering is closed and made again with backoff (`ReconnectLoop`). Nothing depends
/// on the doorbell for correctness: the engine also polls the log.
public final class PostgresDoorbell: Service, Sendable {
    /// The doorbell's timing.
    public struct Settings: Sendable {
        /// How long commits gather before one notification carries them.
        public var coalescing: Duration = .milliseconds(5)
        /// How often the listening connection is checked.
        public var healthInterval: Duration = .seconds(5)
        /// How long the check may take before the connection is given up.
        public var healthTimeout: Duration = .seconds(5)
        /// The backoff between attempts to listen again.
        public var reconnect = ReconnectPolicy(initialDelay: .milliseconds(100), maximumDelay: .seconds(5))

        /// The defaults.
        public init() {}
    }

    /// The PostgreSQL notification channel.
    static let channel = "switchboard_heads"
    /// Most channels remembered between two notifications; past it the next one asks for a catch-up.
    static let maximumPendingChannels = 1000

    private struct Pending {
        var heads: [ChannelName: Int64] = [:]
        var overflowed = false
    }

    /// This node's name in its messages (its own are not reported back to it).
    public let node: String
    private let storage: PostgresStorage
    private let clock: DatabaseClock
    private let settings: Settings
    private let onNews: @Sendable (DoorbellNews) -> Void
    private let random: RandomBitsGenerator
    private let logger: Logger
    private let pending = NIOLockedValueBox(Pending())
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    /// Makes the doorbell of `node`; `onNews` hears what the other nodes ring.
    public init(
        storage: PostgresStorage,
        node: String,
        clock: DatabaseClock,
        settings: Settings = Settings(),
        random: RandomBitsGenerator,
        logger: Logger,
        onNews: @escaping @Sendable (DoorbellNews) -> Void
    ) {
        self.storage = storage
        self.node = node
        self.clock = clock
        self.settings = settings
        self.random = random
        self.logger = logger
        self.onNews = onNews
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Notes that this node committed `events`; the other nodes hear of it within `coalescing`.
    public func ring(_ events: [Event]) {
        guard !events.isEmpty else { return }
        pending.withLockedValue { pending in
            for event in events where !pending.overflowed {
                pending.heads[event.channel] = max(pending.heads[event.channel] ?? 0, event.offset)
                if pending.heads.count > Self.maximumPendingChannels {
                    pending.heads.removeAll()
                    pending.overflowed = true
                }
            }
        }
        wake.yield()
    }

    /// Rings and listens until cancelled or a graceful shutdown.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.ringWhenWoken() }
                group.addTask { await self.listenAndReconnect() }
            }
        }
    }

    private func ringWhenWoken() async {
        for await _ in wakeups {
            // Commits of the next few milliseconds share this notification.
            try? await Task.sleep(for: settings.coalescing)
            let taken = pending.withLockedValue { pending in
                defer { pending = Pending() }
                return pending
            }
            let news: DoorbellNews = taken.overflowed ? .catchUp : .heads(taken.heads)
            if case .heads(let heads) = news, heads.isEmpty { continue }
            let payload = DoorbellMessage(node: node, news: news).payload
            do {
                let storage = storage
                try await StoreDeadline.run("ringing the doorbell") {
                    try await storage.query("SELECT pg_notify(\(Self.channel), \(payload))")
                }
            } catch {
                // The others poll: a lost notification only delays them.
                logger.debug("ringing the doorbell failed", metadata: ["sb.error": "\(postgresErrorText(error))"])
            }
        }
    }

    private func listenAndReconnect() async {
        var loop = ReconnectLoop()
        var random = random
        var action = loop.event(.start)
        while true {
            if Task.isCancelled { action = loop.event(.cancelled) }
            switch action {
            case .none, .close:
                return
            case .connect:
                let listening = NIOLockedValueBox(false)
                do {
                    try await listenOnce { listening.withLockedValue { $0 = true } }
                } catch  where !Task.isCancelled {
                    logger.warning(
                        "the doorbell's listening connection ended; polling covers until it is back",
                        metadata: ["sb.error": "\(postgresErrorText(error))"]
                    )
                } catch {
                    // Shutting down.
                }
                if listening.withLockedValue({ $0 }) { _ = loop.event(.opened) }
                action = loop.event(Task.isCancelled ? .cancelled : .connectionEnded(isFatal: false))
            case .wait(let attempt):
                try? await Task.sleep(for: settings.reconnect.delay(attempt: attempt, using: &random))
                action = loop.event(Task.isCancelled ? .cancelled : .backoffElapsed)
            }
        }
    }

    /// One listening connection, from connect to its end.
    private func listenOnce(onListening: @escaping @Sendable () -> Void) async throws {
        let connection = try await PostgresConnection.connect(
            configuration: try storage.address.connectionConfiguration(),
            id: 0,
            logger: logger
        )
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await connection.listen(on: Self.channel) { notifications in
                        onListening()
                        // Back after a break: the database's clock is read again for the leases.
                        try? await self.clock.measure(on: self.storage)
                        // Listening now: whatever was committed before is found by polling.
                        self.onNews(.catchUp)
                        for try await notification in notifications {
                            self.hear(notification.payload)
                        }
                    }
                    throw StoreError("the listening connection closed")
                }
                group.addTask { try await self.checkHealth(of: connection) }
                // The first child to end ends the connection, and with it the other child.
                defer {
                    connection.close().whenComplete { _ in }
                    group.cancelAll()
                }
                try await group.next()
            }
        } catch {
            try? await connection.close().get()
            throw error
        }
        try? await connection.close().get()
    }

    private func hear(_ payload: String) {
        guard let message = DoorbellMessage(payload: payload), message.node != node else { return }
        onNews(message.news)
    }

    /// Returns (throwing) when `connection` fails to answer a `SELECT 1` within `healthTimeout`.
    private func checkHealth(of connection: PostgresConnection) async throws {
        while true {
            try await Task.sleep(for: settings.healthInterval)
            let answered = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    try await connection.query("SELECT 1", logger: self.logger)
                    return true
                }
                group.addTask {
                    try await Task.sleep(for: self.settings.healthTimeout)
                    return false
                }
                let first = try await group.next() ?? false
                if !first { try? await connection.close().get() }
                group.cancelAll()
                return first
            }
            if !answered { throw StoreError("the listening connection stopped answering") }
        }
    }
}

extension PostgresAddress {
    /// The settings of a connection outside the pool.
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            switch tls {
            case .disable: .disable
            case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
        var configuration = PostgresConnection.Configuration(
            host: host,
            port: port,
            username: username,
            password: password,
            database: database,
            tls: tls
        )
        configuration.options.additionalStartupParameters = [("application_name", "switchboard-doorbell")]
        return configuration
    }
}

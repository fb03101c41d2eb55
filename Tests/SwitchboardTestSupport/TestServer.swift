import Foundation
import Logging
import NIOConcurrencyHelpers
import SwitchboardCore
public import SwitchboardEngine
public import SwitchboardServer
import SwitchboardStore

/// The real server, booted in-process on port 0 with its data in a temporary directory.
///
/// Use `TestServer.with { server in … }`: the server is shut down gracefully at the end (and its
/// directory removed unless `keepData`). `restart()` stops it and starts a new one on the same data.
public final class TestServer: Sendable {
    /// Where the data lives.
    public let dataDirectory: String
    private let configuration: ServerConfiguration
    /// The clocks and randomness the server reads (the machine's unless a test passes its own).
    public let ambient: Ambient
    private let running = NIOLockedValueBox<Running?>(nil)
    /// The port of the first start, reused by restarts so that clients can reconnect.
    private let boundPort = NIOLockedValueBox(0)

    private struct Running: Sendable {
        let port: Int
        let adminKey: String
        let trigger: ShutdownTrigger
        let task: Task<Void, any Error>
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    /// The bound port.
    public var port: Int { running.withLockedValue { $0?.port ?? 0 } }
    /// The admin API key created on first start (empty for a node that joined a database with keys).
    public var adminKey: String { running.withLockedValue { $0?.adminKey ?? "" } }
    /// The engine's settings.
    public var engineConfiguration: EngineConfiguration { configuration.engine }

    private init(dataDirectory: String, ambient: Ambient, configure: (inout ServerConfiguration) -> Void) {
        // Tests wait for what the engine reports (TestActivity), not for time.
        self.ambient = ambient.reporting { _ in TestActivity.changed() }
        self.dataDirectory = dataDirectory
        var configuration = ServerConfiguration(port: 0)
        configuration.engine.store.dataDirectory = dataDirectory
        configuration.engine.store.durability = .normal
        configure(&configuration)
        self.configuration = configuration
    }

    /// Boots a server, runs `body`, then shuts it down and removes its data.
    public static func with<T: Sendable>(
        configure: (inout ServerConfiguration) -> Void = { _ in },
        ambient: Ambient = .system,
        _ body: (TestServer) async throws -> T
    ) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.path + "/switchboard-test-" + UUID().uuidString
        let server = TestServer(dataDirectory: directory, ambient: ambient, configure: configure)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await server.start()
        do {
            let result = try await body(server)
            try await server.stop()
            return result
        } catch {
            try? await server.stop()
            throw error
        }
    }

    /// Starts the server (again) on the same data directory and, after the first start, the same port.
    public func start() async throws {
        let trigger = ShutdownTrigger()
        let (ready, readyContinuation) = AsyncStream<(Int, String?)>.makeStream()
        var logger = Logger(label: "test-server")
        logger.logLevel = .warning
        var configuration = self.configuration
        configuration.port = boundPort.withLockedValue { $0 }
        let task = Task {
            defer { readyContinuation.finish() }
            try await SwitchboardApplication.run(
                configuration: configuration,
                ambient: ambient,
                logger: logger,
                handlesSignals: false,
                shutdown: trigger
            ) { port, key in
                readyContinuation.yield((port, key))
            }
        }
        var iterator = ready.makeAsyncIterator()
        guard let (port, newKey) = await iterator.next() else {
            try await task.value
            throw TestServerError("the server stopped before it was ready")
        }
        // A node joining a database that has keys already makes none (its first node did).
        let key = newKey ?? (try? String(contentsOfFile: dataDirectory + "/admin.key", encoding: .utf8)) ?? ""
        boundPort.withLockedValue { $0 = port }
        running.withLockedValue {
            $0 = Running(
                port: port,
                adminKey: key.trimmingCharacters(in: .whitespacesAndNewlines),
                trigger: trigger,
                task: task
            )
        }
    }

    /// Shuts the server down gracefully and waits until it has stopped.
    public func stop() async throws {
        guard let current = running.withLockedValue({ $0 }) else { return }
        await current.trigger.trigger()
        try await current.task.value
        running.withLockedValue { $0 = nil }
    }

    /// Stops and starts again on the same data.
    public func restart() async throws {
        try await stop()
        try await start()
    }
}

/// A failure of the test harness itself.
public struct TestServerError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

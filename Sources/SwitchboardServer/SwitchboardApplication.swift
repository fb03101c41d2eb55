public import Configuration
import FoundationEssentials
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import Prometheus
import ServiceLifecycle
import SwitchboardCore
public import SwitchboardEngine
import SwitchboardStore
import SwitchboardWeb
import UnixSignals

/// The composition root: opens the engine, builds the router and the transports, and runs
/// everything in one `ServiceGroup` until SIGTERM/SIGINT (or `shutdown`), then closes the store.
public enum SwitchboardApplication {
    /// Runs the server. `onReady` receives the bound port (useful with port 0) and, on first start,
    /// the newly created admin key.
    public static func run(
        configuration: ServerConfiguration,
        ambient: Ambient = .system,
        logger: Logger,
        handlesSignals: Bool = true,
        shutdown: ShutdownTrigger? = nil,
        onReady: @escaping @Sendable (_ port: Int, _ newAdminKey: String?) async -> Void = { _, _ in }
    ) async throws {
        let dataDirectory = configuration.engine.store.dataDirectory
        try AdminKeyBootstrap.prepareDataDirectory(dataDirectory)
        let engine = try await Engine.open(
            configuration: configuration.engineWithPusherApps,
            ambient: ambient,
            logger: logger
        ) {
            environment in
            if let database = configuration.engine.store.database {
                return try await PostgresStorage.openStore(
                    address: database,
                    configuration: configuration.engine.store,
                    environment: environment,
                    logger: logger
                )
            }
            return try await SQLiteStorage.openStore(
                configuration: configuration.engine.store,
                environment: environment,
                logger: logger
            )
        }
        if configuration.engine.isDevelopmentMode {
            logger.warning(
                "DEVELOPMENT MODE: no key or token is needed anywhere; do not expose this server"
            )
        }
        do {
            try await serve(
                engine: engine,
                configuration: configuration,
                logger: logger,
                handlesSignals: handlesSignals,
                shutdown: shutdown,
                onReady: onReady
            )
        } catch {
            await engine.close()
            throw error
        }
        await engine.close()
    }

    private static func serve(
        engine: Engine,
        configuration: ServerConfiguration,
        logger: Logger,
        handlesSignals: Bool,
        shutdown: ShutdownTrigger?,
        onReady: @escaping @Sendable (_ port: Int, _ newAdminKey: String?) async -> Void
    ) async throws {
        let authenticator = Authenticator(
            keys: APIKeyAuthenticator(store: engine.adminStore, ambient: engine.ambient),
            tokens: try await clientTokenVerifier(configuration.clientTokens, now: engine.ambient.wallClock)
        )
        let limits = configuration.engine.limits
        let api = APIContext(
            engine: engine,
            authenticator: authenticator,
            publishRate: KeyRateLimiter(
                rate: limits.keyPublishRate,
                largestBatch: limits.maximumBatchSize,
                clock: engine.ambient.monotonicClock
            )
        )
        let origins = OriginPolicy(
            allowedOrigins: configuration.allowedOrigins,
            isDevelopmentMode: configuration.engine.isDevelopmentMode
        )
        let router = makeRouter(api: api, origins: origins, configuration: configuration)
        let transports = TransportSettings(
            engine: engine,
            authenticator: authenticator,
            api: api,
            heartbeat: .seconds(Int64(configuration.heartbeatSeconds)),
            closeTimeout: .seconds(Int64(configuration.timeouts.closeSeconds)),
            serverSentEventPings: HeartbeatSweeper(
                interval: .seconds(Int64(configuration.serverSentEventsPingSeconds))
            ),
            maximumFrameBytes: limits.maximumFrameBytes,
            webSocketNoDelay: configuration.webSocketNoDelay,
            serverSentEventsNoDelay: configuration.serverSentEventsNoDelay,
            heartbeats: HeartbeatSweeper(interval: .seconds(Int64(configuration.heartbeatSeconds))),
            origins: origins,
            isSecure: configuration.tls != nil,
            requestHeads: RequestHeadDeadlineHandler.Settings(
                requestHead: .seconds(Int64(configuration.timeouts.requestHeadSeconds)),
                idle: .seconds(Int64(configuration.timeouts.idleSeconds)),
                requestBody: .seconds(Int64(configuration.timeouts.requestBodySeconds)),
                waiting: WaitingConnections(maximumPerAddress: configuration.timeouts.maximumWaitingPerAddress),
                ambient: engine.ambient
            ),
            pusherApps: configuration.pusherApps
        )
        let writer = engine.services
        let startupFailure = NIOLockedValueBox<(any Error)?>(nil)
        let stopOnFailure = ShutdownTrigger()
        let application = Application(
            router: router,
            server: try serverBuilder(transports, tls: configuration.tls),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: TransportSettings.serverName
            ),
            onServerRunning: { channel in
                // The store's writer runs now, so the first admin key can be stored. A key that cannot
                // be stored stops the server: starting without one would leave no way in.
                do {
                    var generator = engine.ambient.randomNumberGenerator
                    let newKey = try await AdminKeyBootstrap.ensureAdminKey(
                        store: engine.adminStore,
                        dataDirectory: configuration.engine.store.dataDirectory,
                        now: engine.ambient.wallClock(),
                        using: &generator
                    )
                    await onReady(channel.localAddress?.port ?? configuration.port, newKey)
                } catch {
                    logger.critical("cannot create the admin key", metadata: ["sb.error": "\(error)"])
                    startupFailure.withLockedValue { $0 = error }
                    await stopOnFailure.trigger()
                }
            },
            logger: logger
        )
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: writer.map { .init(service: $0) } + [.init(service: application)],
                gracefulShutdownSignals: handlesSignals ? [.sigterm, .sigint] : [],
                logger: logger
            )
        )
        shutdown?.attach(group)
        stopOnFailure.attach(group)
        try await group.run()
        if let failure = startupFailure.withLockedValue({ $0 }) { throw failure }
    }
}

extension SwitchboardApplication {
    /// Plain HTTP, or HTTPS (and WSS) on the same port when TLS files are configured.
    fileprivate static func serverBuilder(_ transports: TransportSettings, tls: TLSFiles?) throws -> HTTPServerBuilder {
        guard let tls else { return .switchboard(transports) }
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(tls.certificateFile)
        } catch {
            throw ConfigurationError(
                key: "tls.cert",
                message: "cannot read a PEM certificate chain from \(tls.certificateFile)"
            )
        }
        do {
            key = try NIOSSLPrivateKey(file: tls.keyFile, format: .pem)
        } catch {
            throw ConfigurationError(key: "tls.key", message: "cannot read a PEM private key from \(tls.keyFile)")
        }
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(key)
        )
        return try .tls(.switchboard(transports), tlsConfiguration: configuration)
    }

    /// The client token verifier, when a secret or public keys are configured.
    fileprivate static func clientTokenVerifier(
        _ settings: ClientTokenSettings,
        now: @escaping @Sendable () -> Timestamp
    ) async throws -> ClientTokenVerifier? {
        guard settings.isEnabled else { return nil }
        var pems: [String] = []
        for path in settings.publicKeyFiles {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigurationError(key: "jwt.public_keys", message: "cannot read \(path)")
            }
            pems.append(String(decoding: data, as: UTF8.self))
        }
        do {
            return try await ClientTokenVerifier(
                secret: settings.secret,
                publicKeys: pems,
                requirements: settings.requirements,
                now: now
            )
        } catch let error as ClientTokenKeyError {
            throw ConfigurationError(key: error.configurationKey, message: "\(error)")
        } catch {
            throw ConfigurationError(key: "jwt.public_keys", message: "\(error)")
        }
    }
}

/// Starts a graceful shutdown of a running server from code, as SIGTERM does.
public final class ShutdownTrigger: Sendable {
    private let state = NIOLockedValueBox<(group: ServiceGroup?, isRequested: Bool)>((nil, false))

    /// Makes a trigger; pass it to `SwitchboardApplication.run`.
    public init() {}

    func attach(_ group: ServiceGroup) {
        let requested = state.withLockedValue { state -> Bool in
            state.group = group
            return state.isRequested
        }
        if requested { Task { await group.triggerGracefulShutdown() } }
    }

    /// Stops accepting, closes real-time connections with 1012, finishes in-flight work, flushes the store.
    public func trigger() async {
        let group = state.withLockedValue { state -> ServiceGroup? in
            state.isRequested = true
            return state.group
        }
        await group?.triggerGracefulShutdown()
    }
}

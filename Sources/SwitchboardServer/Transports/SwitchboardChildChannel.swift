import HTTPTypes
import Hummingbird
public import HummingbirdCore
import Logging
public import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
import Prometheus
import SwitchboardCore
import SwitchboardEngine
import SwitchboardStore

/// How each accepted connection is set up: WebSocket upgrades on `/v1/ws` (and, with a Pusher app
/// configured, on `/app/{key}`) become a plain NIO `WebSocketConnection`, SSE requests on `/v1/sse` are taken by `ServerSentEventsHandler` (in front of
/// the upgrade handler), plain single publishes by `HTTPPublishHandler`, and everything else is served
/// by Hummingbird's HTTP/1.1 responder (the router).
///
/// WebSockets and SSE streams keep no task: `handle` returns as soon as the connection is known to be
/// one, and it lives on in its NIO handler. The router's async channel is made only for a connection
/// whose first request is not an SSE stream.
struct SwitchboardChildChannel: ServerChildChannel, HTTPChannelHandler {
    enum UpgradeResult: Sendable {
        case webSocket
        /// The first request was an SSE stream: the connection never serves another request.
        case serverSentEvents
        case notUpgraded(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        case failedUpgrade(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
    }

    struct Value: ServerChildChannelValue {
        let upgradeResult: EventLoopFuture<UpgradeResult>
        let channel: any Channel
    }

    let responder: HTTPChannelHandler.Responder
    let transports: TransportSettings

    /// Receive buffers start at 256 bytes (a request head, a client command) and grow, read by read, up
    /// to 64 KiB for a client that sends more; they shrink back after small reads.
    static let receiveBuffers = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 256, maximum: 65536)

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            // Each socket keeps its last receive buffer for the next read: start it small, so that an
            // idle connection holds a few hundred bytes instead of NIO's default 2 KiB.
            try channel.syncOptions?.setOption(.recvAllocator, value: Self.receiveBuffers)
            let upgradeAttempted = NIOLoopBoundBox(false, eventLoop: channel.eventLoop)
            let transports = self.transports
            let requestHeads = RequestHeadDeadlineHandler(settings: transports.requestHeads)
            let outcome = ConnectionOutcome<UpgradeResult>(eventLoop: channel.eventLoop)
            let serverSentEvents = ServerSentEventsHandler(
                eventLoop: channel.eventLoop,
                transports: transports,
                logger: logger,
                taken: { context in
                    outcome.settle(.success(.serverSentEvents))
                    // A stream serves no other request: the upgrade handler and the request-head
                    // deadline (whose wait ended with this head) have nothing left to do.
                    let operations = context.pipeline.syncOperations
                    operations.removeHandler(requestHeads, promise: nil)
                    if let upgrade = try? operations.handler(type: NIOTypedHTTPServerUpgradeHandler<UpgradeResult>.self)
                    {
                        operations.removeHandler(upgrade, promise: nil)
                    }
                }
            )
            let upgrader = NIOTypedWebSocketServerUpgrader<UpgradeResult>(
                maxFrameSize: transports.maximumFrameBytes,
                enableAutomaticErrorHandling: false,
                shouldUpgrade: { channel, head in
                    upgradeAttempted.value = true
                    let path = URI(head.uri).path
                    guard path == "/v1/ws" || (transports.pusherApps.isEnabled && path.hasPrefix("/app/")) else {
                        return channel.eventLoop.makeSucceededFuture(nil)
                    }
                    // The upgrade goes ahead: the HTTP-only handlers leave before the request decoder,
                    // which hands any bytes that came with the request (a first frame) to what follows it.
                    let operations = channel.pipeline.syncOperations
                    operations.removeHandler(requestHeads, promise: nil)
                    operations.removeHandler(serverSentEvents, promise: nil)
                    var headers = HTTPHeaders()
                    if path == "/v1/ws",
                        head.headers[canonicalForm: "Sec-WebSocket-Protocol"].contains("switchboard.v1")
                    {
                        headers.add(name: "Sec-WebSocket-Protocol", value: "switchboard.v1")
                    }
                    if let deflate = PerMessageDeflate.negotiate(offers: head.headers["Sec-WebSocket-Extensions"]) {
                        headers.add(name: "Sec-WebSocket-Extensions", value: deflate.responseHeader)
                    }
                    return channel.eventLoop.makeSucceededFuture(headers)
                },
                upgradePipelineHandler: { channel, head in
                    channel.eventLoop.makeCompletedFuture {
                        let operations = channel.pipeline.syncOperations
                        // Frames are written as ready-made bytes through a writer next to the socket.
                        try RawBytesWriter.install(in: operations)
                        if !transports.webSocketNoDelay {
                            // Let the kernel coalesce a subscriber's small frames while earlier ones are
                            // unacknowledged (Nagle): under load, fewer and larger segments.
                            try channel.syncOptions?.setOption(.tcpOption(.tcp_nodelay), value: 0)
                        }
                        let uri = URI(head.uri)
                        let dialect = Self.dialect(of: uri, apps: transports.pusherApps)
                        // A Pusher client is authorised per channel, by the app's signatures.
                        let credential: String? =
                            if case .switchboard = dialect {
                                uri.queryParameters["token"].map(String.init)
                                    ?? APIKeyAuthenticator.bearer(head.headers.first(name: "Authorization"))
                            } else {
                                nil
                            }
                        try operations.addHandler(
                            WebSocketConnection(
                                eventLoop: channel.eventLoop,
                                settings: transports.webSocketSettings(
                                    dialect: dialect,
                                    credential: credential,
                                    deflate: PerMessageDeflate.negotiate(
                                        offers: head.headers["Sec-WebSocket-Extensions"]
                                    ),
                                    refusal: transports.origins.allows(
                                        origin: head.headers.first(name: "Origin"),
                                        host: head.headers.first(name: "Host")
                                    ) ? nil : (.forbidden, "origin not allowed"),
                                    logger: logger
                                )
                            )
                        )
                        return .webSocket
                    }
                }
            )
            let serverUpgrade = NIOTypedHTTPServerUpgradeConfiguration<UpgradeResult>(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let operations = channel.pipeline.syncOperations
                        try operations.addHandler(
                            HTTPPublishHandler(api: transports.api, serverName: TransportSettings.serverName)
                        )
                        try operations.addHandler(HTTP1ToHTTPServerCodec(secure: transports.isSecure))
                        try operations.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
                        let http = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(isOutboundHalfClosureEnabled: true)
                        )
                        return upgradeAttempted.value ? .failedUpgrade(http) : .notUpgraded(http)
                    }
                }
            )
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration(upgradeConfiguration: serverUpgrade)
            configuration.enablePipelining = false
            configuration.enableErrorHandling = false
            configuration.enableResponseHeaderValidation = false
            let operations = channel.pipeline.syncOperations
            let result = try operations.configureUpgradableHTTPServerPipeline(configuration: configuration)
            // Right after the request decoder: it sees every request head and every response's end.
            let decoder = try operations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try operations.addHandler(requestHeads, position: .after(decoder))
            // Before the upgrade handler: an SSE stream is taken without the router's machinery.
            try operations.addHandler(serverSentEvents, position: .after(requestHeads))
            outcome.settle(with: result)
            return Value(upgradeResult: outcome.future, channel: channel)
        }
    }

    /// The protocol of an upgrade: Switchboard's own on `/v1/ws`; on `/app/{key}` Pusher's (version 5
    /// to 7) for a configured app, or a refusal with Pusher's code (4001: no such app, 4007: protocol).
    static func dialect(of uri: URI, apps: PusherApps) -> WebSocketConnection.Dialect {
        guard uri.path.hasPrefix("/app/") else { return .switchboard }
        let key = String(uri.path.dropFirst("/app/".count))
        guard let app = apps.app(key: key) else {
            return .pusherRefused(code: 4001, message: "no app has the key \(key.prefix(64))")
        }
        guard let version = uri.queryParameters["protocol"].flatMap({ Int(String($0)) }), (5...7).contains(version)
        else {
            return .pusherRefused(code: 4007, message: "unsupported protocol version: this server speaks 5 to 7")
        }
        return .pusher(app)
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgradeResult.get() {
            case .webSocket, .serverSentEvents:
                return
            case .notUpgraded(let http):
                await handleHTTP(asyncChannel: http, logger: logger)
            case .failedUpgrade(let http):
                // An upgrade request that is not a valid WebSocket upgrade on /v1/ws: let the router
                // answer it (404 for other paths, a problem for a malformed upgrade).
                await handleHTTP(asyncChannel: http, logger: logger)
            }
        } catch {
            logger.trace("connection ended during upgrade", metadata: ["sb.error": "\(error)"])
        }
    }
}

import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import Prometheus
import SwitchboardCore
import SwitchboardEngine
import SwitchboardStore

/// What the real-time transports share: the engine, authentication and their timing settings.
///
/// A class, made once per server: every connection's handler keeps a reference to it rather than a
/// copy of all of it (an idle connection's memory is part of what the server promises).
final class TransportSettings: Sendable {
    let engine: Engine
    let authenticator: Authenticator
    /// What the HTTP API's handlers share; the single publish is served in front of the router with it.
    let api: APIContext
    let heartbeat: TimeAmount
    /// How long a closing connection may take to read its goodbye before its socket is cut.
    let closeTimeout: TimeAmount
    /// The comments that keep idle SSE streams open through proxies, one task per event loop.
    let serverSentEventPings: HeartbeatSweeper
    let maximumFrameBytes: Int
    /// TCP_NODELAY on upgraded WebSocket connections.
    let webSocketNoDelay: Bool
    /// TCP_NODELAY on SSE streams.
    let serverSentEventsNoDelay: Bool
    /// The WebSocket pings, one task per event loop.
    let heartbeats: HeartbeatSweeper
    /// Which browser origins may connect.
    let origins: OriginPolicy
    /// Connections arrive over TLS.
    let isSecure: Bool
    /// Deadlines and the per-address cap of plain HTTP connections that owe a request head.
    let requestHeads: RequestHeadDeadlineHandler.Settings
    /// The Pusher apps whose clients connect on `/app/{key}` (none: that path is not upgraded).
    let pusherApps: PusherApps

    init(
        engine: Engine,
        authenticator: Authenticator,
        api: APIContext,
        heartbeat: TimeAmount,
        closeTimeout: TimeAmount,
        serverSentEventPings: HeartbeatSweeper,
        maximumFrameBytes: Int,
        webSocketNoDelay: Bool,
        serverSentEventsNoDelay: Bool,
        heartbeats: HeartbeatSweeper,
        origins: OriginPolicy,
        isSecure: Bool,
        requestHeads: RequestHeadDeadlineHandler.Settings,
        pusherApps: PusherApps = .none
    ) {
        self.engine = engine
        self.authenticator = authenticator
        self.api = api
        self.heartbeat = heartbeat
        self.closeTimeout = closeTimeout
        self.serverSentEventPings = serverSentEventPings
        self.maximumFrameBytes = maximumFrameBytes
        self.webSocketNoDelay = webSocketNoDelay
        self.serverSentEventsNoDelay = serverSentEventsNoDelay
        self.heartbeats = heartbeats
        self.origins = origins
        self.isSecure = isSecure
        self.requestHeads = requestHeads
        self.pusherApps = pusherApps
    }

    /// The `Server` header of every HTTP answer.
    static let serverName = "Switchboard"

    func webSocketSettings(
        dialect: WebSocketConnection.Dialect = .switchboard,
        credential: String?,
        deflate: PerMessageDeflate?,
        refusal: (code: CloseCode, reason: String)?,
        logger: Logger
    ) -> WebSocketConnection.Settings {
        WebSocketConnection.Settings(
            transports: self,
            dialect: dialect,
            initialCredential: credential,
            deflate: deflate,
            refusal: refusal,
            logger: logger
        )
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with Switchboard's own WebSocket and SSE transports.
    static func switchboard(_ transports: TransportSettings) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            SwitchboardChildChannel(responder: responder, transports: transports)
        }
    }
}

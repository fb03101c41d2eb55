import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Prometheus
public import SwitchboardCore
public import SwitchboardEngine
public import SwitchboardStore

/// Everything `switchboard serve` can be told, with the defaults in one place.
public struct ServerConfiguration: Sendable, Equatable {
    /// Address to listen on.
    public var host: String
    /// Port to listen on (0: any free port).
    public var port: Int
    /// WebSocket heartbeat interval in seconds (the server pings; two missed pongs close).
    public var heartbeatSeconds: Int
    /// TCP_NODELAY on WebSocket connections. Off by default: frames of one tick already leave in one
    /// write, and under load the kernel then coalesces a subscriber's frames into fewer segments.
    public var webSocketNoDelay: Bool
    /// SSE keep-alive comment interval in seconds.
    public var serverSentEventsPingSeconds: Int
    /// TCP_NODELAY on SSE streams; off by default for the same reason as on WebSocket connections.
    public var serverSentEventsNoDelay: Bool
    /// Whether `/metrics` needs an API key.
    public var metricsRequireKey: Bool
    /// Client tokens: the shared HS256 secret, PEM public key files, and required `iss`/`aud`.
    public var clientTokens: ClientTokenSettings
    /// Serve HTTPS and WSS with this certificate chain and key (PEM files), when both are set.
    public var tls: TLSFiles?
    /// Browser origins (`https://app.example.com`, or `*`) allowed to open WebSockets and to read the
    /// HTTP API through CORS; requests whose `Origin` is the server's own host are always allowed.
    public var allowedOrigins: [String]
    /// Serve `/v1/client.js`, the console and the examples from this directory, read on every request,
    /// instead of the copies built into the binary (`http.web_dir`: for working on them).
    public var webDirectory: String?
    /// Deadlines of slow and idle peers (`timeouts.*`).
    public var timeouts: ConnectionTimeouts
    /// The Pusher apps whose protocol is spoken (`pusher.*`); none: the Pusher endpoints are off.
    public var pusherApps: PusherApps
    /// The engine's settings.
    public var engine: EngineConfiguration

    /// Makes a configuration; defaults are DESIGN.md's.
    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        heartbeatSeconds: Int = 25,
        webSocketNoDelay: Bool = false,
        serverSentEventsPingSeconds: Int = 15,
        serverSentEventsNoDelay: Bool = false,
        metricsRequireKey: Bool = false,
        clientTokens: ClientTokenSettings = ClientTokenSettings(),
        tls: TLSFiles? = nil,
        allowedOrigins: [String] = [],
        webDirectory: String? = nil,
        timeouts: ConnectionTimeouts = ConnectionTimeouts(),
        pusherApps: PusherApps = PusherApps.none,
        engine: EngineConfiguration = EngineConfiguration(
            store: StoreConfiguration(dataDirectory: "./switchboard-data")
        )
    ) {
        self.host = host
        self.port = port
        self.heartbeatSeconds = heartbeatSeconds
        self.webSocketNoDelay = webSocketNoDelay
        self.serverSentEventsPingSeconds = serverSentEventsPingSeconds
        self.serverSentEventsNoDelay = serverSentEventsNoDelay
        self.metricsRequireKey = metricsRequireKey
        self.clientTokens = clientTokens
        self.tls = tls
        self.allowedOrigins = allowedOrigins
        self.webDirectory = webDirectory
        self.timeouts = timeouts
        self.pusherApps = pusherApps
        self.engine = engine
    }
}

/// How long a peer may take (`timeouts.*`; PROTOCOL.md "Operations": by default none exceeds 60 s).
public struct ConnectionTimeouts: Sendable, Equatable {
    /// Seconds a connection has to send a complete request head (or WebSocket upgrade), from its
    /// first byte on (`timeouts.request_head_seconds`, 10).
    public var requestHeadSeconds: Int
    /// Seconds an HTTP keep-alive connection may sit idle between requests (`timeouts.idle_seconds`, 60).
    public var idleSeconds: Int
    /// Seconds a request has, once its head arrived, to send the rest of itself (its body)
    /// (`timeouts.request_body_seconds`, 60).
    public var requestBodySeconds: Int
    /// Seconds a closing WebSocket or SSE stream has to read its goodbye before its socket is cut
    /// (`timeouts.close_seconds`, 5).
    public var closeSeconds: Int
    /// Plain HTTP connections one client address may have that owe a request head, new or idle
    /// (`limits.max_waiting_connections_per_address`, 1000); past it a new connection is closed at once.
    public var maximumWaitingPerAddress: Int

    /// Makes timeouts; the defaults are the documented ones.
    public init(
        requestHeadSeconds: Int = 10,
        idleSeconds: Int = 60,
        requestBodySeconds: Int = 60,
        closeSeconds: Int = 5,
        maximumWaitingPerAddress: Int = 1000
    ) {
        self.requestHeadSeconds = requestHeadSeconds
        self.idleSeconds = idleSeconds
        self.requestBodySeconds = requestBodySeconds
        self.closeSeconds = closeSeconds
        self.maximumWaitingPerAddress = maximumWaitingPerAddress
    }
}

/// How client tokens are checked (`jwt.*`).
public struct ClientTokenSettings: Sendable, Equatable {
    /// The HS256 shared secret (`jwt.secret`, `SWITCHBOARD_JWT_SECRET`).
    public var secret: String?
    /// Files holding RS256, ES256 or EdDSA public keys in PEM (`jwt.public_keys`).
    public var publicKeyFiles: [String]
    /// Required `iss` and `aud`.
    public var requirements: ClientTokenClaims.Requirements

    /// Makes settings; by default no token is accepted.
    public init(
        secret: String? = nil,
        publicKeyFiles: [String] = [],
        requirements: ClientTokenClaims.Requirements = .init()
    ) {
        self.secret = secret
        self.publicKeyFiles = publicKeyFiles
        self.requirements = requirements
    }

    /// Whether any token can be verified.
    public var isEnabled: Bool { secret?.isEmpty == false || !publicKeyFiles.isEmpty }
}

/// The PEM files of a TLS certificate chain and its private key.
public struct TLSFiles: Sendable, Equatable {
    /// The certificate chain, leaf first.
    public var certificateFile: String
    /// The private key.
    public var keyFile: String

    /// Names the files.
    public init(certificateFile: String, keyFile: String) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }
}

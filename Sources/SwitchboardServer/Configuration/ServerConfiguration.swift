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
    /// Whether `/metrics` needs an API key.
    public var metricsRequireKey: Bool
    /// The engine's settings.
    public var engine: EngineConfiguration

    /// Makes a configuration; defaults are DESIGN.md's.
    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        heartbeatSeconds: Int = 25,
        webSocketNoDelay: Bool = false,
        serverSentEventsPingSeconds: Int = 15,
        metricsRequireKey: Bool = false,
        engine: EngineConfiguration = EngineConfiguration(
            store: StoreConfiguration(dataDirectory: "./switchboard-data")
        )
    ) {
        self.host = host
        self.port = port
        self.heartbeatSeconds = heartbeatSeconds
        self.webSocketNoDelay = webSocketNoDelay
        self.serverSentEventsPingSeconds = serverSentEventsPingSeconds
        self.metricsRequireKey = metricsRequireKey
        self.engine = engine
    }
}

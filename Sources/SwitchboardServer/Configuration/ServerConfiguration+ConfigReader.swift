public import Configuration
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Prometheus
import SwitchboardCore
import SwitchboardEngine
import SwitchboardStore

extension ServerConfiguration {
    /// Every key read, as written in the documentation (namespace keys after `namespace.<name>.`).
    public static let keys = [
        "http.host", "http.port", "data.dir", "dev", "store.durability", "store.idempotency_window_seconds",
        "store.database_url", "store.cluster_poll_ms", "store.node_ttl_ms",
        "websocket.heartbeat_seconds", "websocket.tcp_nodelay", "sse.ping_seconds", "sse.tcp_nodelay",
        "metrics.require_key",
        "limits.max_data_bytes",
        "limits.max_batch", "limits.max_history_page", "limits.max_wait_seconds", "retention.interval_seconds",
        "namespaces", "retention_count", "retention_seconds", "public", "client_publish", "mailbox_bytes",
        "mailbox_events", "webhooks.retry_schedule", "webhooks.timeout_seconds", "webhooks.concurrency",
        "webhooks.endpoint_concurrency", "webhooks.allow_private_targets", "webhooks.disable_after_hours",
        "webhooks.history_days", "jwt.secret", "jwt.public_keys", "jwt.issuer", "jwt.audience", "tls.cert",
        "tls.key", "http.allowed_origins", "http.web_dir", "limits.max_body_bytes", "limits.max_frame_bytes",
        "limits.key_publish_rate", "limits.connection_publish_rate", "limits.connection_command_rate",
        "limits.max_subscriptions", "limits.max_connections_per_user", "limits.max_connections_per_address",
        "presence", "personal", "store.inbound_dedup_seconds", "sources", "verify", "secrets", "channel",
        "type_from", "default_type", "id_from", "max_body_bytes", "tolerance_seconds", "hmac_header",
        "hmac_algorithm", "hmac_encoding", "hmac_prefix", "timeouts.request_head_seconds", "timeouts.idle_seconds",
        "timeouts.request_body_seconds",
        "timeouts.close_seconds", "limits.max_page_bytes", "limits.max_waiting_connections_per_address",
        "limits.presence_join_rate", "pusher.app_id", "pusher.key", "pusher.secret", "pusher.apps",
        "pusher.client_events",
    ]

    /// Reads the configuration: flags, then `SWITCHBOARD_…` environment variables, then the file, then defaults.
    ///
    /// ## Configuration keys
    /// - `http.host` (string, `127.0.0.1`; `SWITCHBOARD_HTTP_HOST`, `--host`)
    /// - `http.port` (int, `8080`; `SWITCHBOARD_HTTP_PORT`, `--port`)
    /// - `data.dir` (string, `./switchboard-data`; `SWITCHBOARD_DATA_DIR`, `--data-dir`)
    /// - `dev` (bool, `false`; `SWITCHBOARD_DEV`, `--dev`)
    /// - `store.durability` (`full` or `normal`, `full`)
    /// - `store.idempotency_window_seconds` (int, `86400`)
    /// - `store.inbound_dedup_seconds` (int, `604800`: how long inbound delivery ids are remembered)
    /// - `sources` (string list of inbound source names) and `source.<name>.*`: `verify`, `secrets`
    ///   (string list), `channel`, `type_from`, `default_type`, `id_from`, `max_body_bytes`,
    ///   `tolerance_seconds`, `hmac_header`, `hmac_algorithm`, `hmac_encoding`, `hmac_prefix`
    /// - `websocket.heartbeat_seconds` (int, `25`)
    /// - `websocket.tcp_nodelay` (bool, `false`)
    /// - `sse.ping_seconds` (int, `15`)
    /// - `sse.tcp_nodelay` (bool, `false`)
    /// - `metrics.require_key` (bool, `false`)
    /// - `http.web_dir` (string: serve the browser client, console and examples from this directory instead
    ///   of the built-in copies)
    /// - `limits.max_data_bytes` (int, `65536`), `limits.max_batch` (int, `1000`),
    ///   `limits.max_history_page` (int, `1000`), `limits.max_page_bytes` (int, `1048576`: `data` bytes of
    ///   one page read from the log, for history, long-poll and catch-up), `limits.max_wait_seconds` (int, `60`),
    ///   `limits.max_body_bytes` (int, `8388608`), `limits.max_frame_bytes` (int, `1048576`),
    ///   `limits.key_publish_rate` (events/s per API key, `10000`; 0: none),
    ///   `limits.connection_publish_rate` (events/s per connection, `100`; 0: none),
    ///   `limits.connection_command_rate` (commands/s per WebSocket, `1000`),
    ///   `limits.max_subscriptions` (per connection, `1000`), `limits.max_connections_per_user` (`100`),
    ///   `limits.max_connections_per_address` (`10000`)
    /// - `jwt.secret` (string; `SWITCHBOARD_JWT_SECRET`), `jwt.public_keys` (list of PEM file paths),
    ///   `jwt.issuer`, `jwt.audience` (strings a token's `iss`/`aud` must carry)
    /// - `tls.cert`, `tls.key` (PEM file paths; `--tls-cert`, `--tls-key`)
    /// - `http.allowed_origins` (string list; `*` for any; empty: same host only, any with `dev`)
    /// - `timeouts.request_head_seconds` (int, `10`), `timeouts.idle_seconds` (int, `60`: an idle keep-alive
    ///   connection), `timeouts.request_body_seconds` (int, `60`: the rest of a request after its head),
    ///   `timeouts.close_seconds` (int, `5`: a closing WebSocket or SSE stream),
    ///   `limits.max_waiting_connections_per_address` (int, `1000`: plain HTTP connections owing a head)
    /// - `retention.interval_seconds` (int, `30`)
    /// - `namespaces` (string list of configured namespace names, empty)
    /// - `namespace.default.*` and `namespace.<name>.*`: `retention_count` (int, `10000`; 0 keeps all),
    ///   `retention_seconds` (int, `86400`; 0 keeps all), `public` (bool, `false`),
    ///   `client_publish` (bool, `false`), `presence` (bool, `false`), `personal` (bool, `false`), `mailbox_bytes` (int, `4194304`), `mailbox_events` (int, `10000`)
    /// - `webhooks.retry_schedule` (string, `0s,5s,5m,30m,2h,5h,10h,10h`: the delay before each attempt;
    ///   the first is always `0s`)
    /// - `webhooks.timeout_seconds` (int, `15`), `webhooks.concurrency` (int, `128`),
    ///   `webhooks.endpoint_concurrency` (int, `16`), `webhooks.allow_private_targets` (bool, `false`; on
    ///   with `dev`), `webhooks.disable_after_hours` (int, `120`), `webhooks.history_days` (int, `30`: how long
    ///   finished deliveries and their attempts are kept)
    /// - `pusher.app_id`, `pusher.key`, `pusher.secret` (strings, set together; `SWITCHBOARD_PUSHER_APP_ID`,
    ///   `SWITCHBOARD_PUSHER_KEY`, `SWITCHBOARD_PUSHER_SECRET`): a Pusher app; `pusher.apps` (string list of
    ///   more app ids) and `pusher.app.<id>.key`, `pusher.app.<id>.secret` (see docs/pusher.md)
    public init(reader: ConfigReader) throws(ConfigurationError) {
        let defaults = ServerConfiguration()
        self.init()
        host = reader.string(forKey: "http.host", default: defaults.host)
        port = try Self.ranged(reader, "http.port", default: defaults.port, 0...65535)
        heartbeatSeconds = try Self.ranged(reader, "websocket.heartbeat_seconds", default: 25, 1...3600)
        webSocketNoDelay = try Self.flag(reader, "websocket.tcp_nodelay", default: false)
        serverSentEventsPingSeconds = try Self.ranged(reader, "sse.ping_seconds", default: 15, 1...3600)
        serverSentEventsNoDelay = try Self.flag(reader, "sse.tcp_nodelay", default: false)
        metricsRequireKey = try Self.flag(reader, "metrics.require_key", default: false)
        clientTokens = ClientTokenSettings(
            secret: reader.string(forKey: "jwt.secret", isSecret: true),
            publicKeyFiles: reader.stringArray(forKey: "jwt.public_keys", default: []).filter { !$0.isEmpty },
            requirements: .init(
                issuer: reader.string(forKey: "jwt.issuer"),
                audience: reader.string(forKey: "jwt.audience")
            )
        )
        if let secret = clientTokens.secret, !secret.isEmpty, secret.utf8.count < ClientTokenVerifier.minimumSecretBytes
        {
            throw ConfigurationError(
                key: "jwt.secret",
                message:
                    "must be at least \(ClientTokenVerifier.minimumSecretBytes) bytes (HS256 keys as long as the hash)"
            )
        }
        switch (reader.string(forKey: "tls.cert"), reader.string(forKey: "tls.key")) {
        case (nil, nil): tls = nil
        case (let certificate?, let key?): tls = TLSFiles(certificateFile: certificate, keyFile: key)
        default: throw ConfigurationError(key: "tls.cert", message: "and tls.key must be set together")
        }
        allowedOrigins = reader.stringArray(forKey: "http.allowed_origins", default: []).filter { !$0.isEmpty }
        webDirectory = reader.string(forKey: "http.web_dir").flatMap { $0.isEmpty ? nil : $0 }
        pusherApps = try Self.pusherApps(reader)
        timeouts = ConnectionTimeouts(
            requestHeadSeconds: try Self.ranged(reader, "timeouts.request_head_seconds", default: 10, 1...3600),
            idleSeconds: try Self.ranged(reader, "timeouts.idle_seconds", default: 60, 1...86_400),
            requestBodySeconds: try Self.ranged(reader, "timeouts.request_body_seconds", default: 60, 1...3600),
            closeSeconds: try Self.ranged(reader, "timeouts.close_seconds", default: 5, 1...600),
            maximumWaitingPerAddress: try Self.ranged(
                reader,
                "limits.max_waiting_connections_per_address",
                default: 1000,
                1...10_000_000
            )
        )

        let durabilityText = reader.string(forKey: "store.durability", default: "full")
        guard let durability = StoreConfiguration.Durability(rawValue: durabilityText) else {
            throw ConfigurationError(key: "store.durability", message: "must be full or normal")
        }
        var database: PostgresAddress?
        if let url = reader.string(forKey: "store.database_url", isSecret: true), !url.isEmpty {
            do {
                database = try PostgresAddress(url: url)
            } catch {
                throw ConfigurationError(key: "store.database_url", message: error.description)
            }
        }
        let store = StoreConfiguration(
            dataDirectory: reader.string(forKey: "data.dir", default: defaults.engine.store.dataDirectory),
            durability: durability,
            idempotencyWindowSeconds: try Self.ranged(
                reader,
                "store.idempotency_window_seconds",
                default: 86_400,
                86_400...(86_400 * 30)
            ),
            inboundDeduplicationSeconds: try Self.ranged(
                reader,
                "store.inbound_dedup_seconds",
                default: 604_800,
                86_400...(86_400 * 90)
            ),
            database: database,
            clusterPollMilliseconds: try Self.ranged(reader, "store.cluster_poll_ms", default: 500, 10...60_000),
            nodeTTLMilliseconds: try Self.ranged(reader, "store.node_ttl_ms", default: 30_000, 300...600_000)
        )
        let limits = Limits(
            maximumDataBytes: try Self.ranged(reader, "limits.max_data_bytes", default: 65_536, 1...(4 * 1024 * 1024)),
            maximumBatchSize: try Self.ranged(reader, "limits.max_batch", default: 1000, 1...10_000),
            maximumHistoryPage: try Self.ranged(reader, "limits.max_history_page", default: 1000, 1...10_000),
            maximumPageBytes: try Self.ranged(
                reader,
                "limits.max_page_bytes",
                default: 1 << 20,
                1024...(256 * 1024 * 1024)
            ),
            maximumWaitSeconds: try Self.ranged(reader, "limits.max_wait_seconds", default: 60, 0...600),
            maximumRequestBytes: try Self.ranged(
                reader,
                "limits.max_body_bytes",
                default: 8 * 1024 * 1024,
                1024...(256 * 1024 * 1024)
            ),
            maximumFrameBytes: try Self.ranged(reader, "limits.max_frame_bytes", default: 1 << 20, 1024...(64 << 20)),
            keyPublishRate: try Self.ranged(reader, "limits.key_publish_rate", default: 10_000, 0...10_000_000),
            connectionPublishRate: try Self.ranged(
                reader,
                "limits.connection_publish_rate",
                default: 100,
                0...1_000_000
            ),
            connectionCommandRate: try Self.ranged(
                reader,
                "limits.connection_command_rate",
                default: 1000,
                1...1_000_000
            ),
            presenceJoinRate: try Self.ranged(reader, "limits.presence_join_rate", default: 10, 1...1_000_000),
            maximumSubscriptionsPerConnection: try Self.ranged(
                reader,
                "limits.max_subscriptions",
                default: 1000,
                1...1_000_000
            ),
            maximumConnectionsPerUser: try Self.ranged(
                reader,
                "limits.max_connections_per_user",
                default: 100,
                1...1_000_000
            ),
            maximumConnectionsPerAddress: try Self.ranged(
                reader,
                "limits.max_connections_per_address",
                default: 10_000,
                1...10_000_000
            )
        )
        let defaultPolicy = try Self.policy(reader, scope: "namespace.default", base: NamespacePolicy())
        var named: [String: NamespacePolicy] = [:]
        for name in reader.stringArray(forKey: "namespaces", default: []) where !name.isEmpty {
            named[name] = try Self.policy(reader, scope: "namespace.\(name)", base: defaultPolicy)
        }
        let isDevelopmentMode = try Self.flag(reader, "dev", default: false)
        engine = EngineConfiguration(
            store: store,
            namespaces: NamespacePolicies(defaultPolicy: defaultPolicy, named: named),
            limits: limits,
            isDevelopmentMode: isDevelopmentMode,
            retentionInterval: .seconds(try Self.ranged(reader, "retention.interval_seconds", default: 30, 1...86_400)),
            webhooks: try Self.webhooks(reader, isDevelopmentMode: isDevelopmentMode),
            inboundSources: try Self.inboundSources(reader)
        )
    }

    private static func webhooks(_ reader: ConfigReader, isDevelopmentMode: Bool) throws(ConfigurationError)
        -> WebhookSettings
    {
        let defaults = WebhookSettings()
        var schedule = defaults.schedule
        if let text = reader.string(forKey: "webhooks.retry_schedule") {
            do {
                schedule = try RetrySchedule(parsing: text)
            } catch {
                throw ConfigurationError(
                    key: "webhooks.retry_schedule",
                    message: "must be durations like 0s,5s,5m,2h (\(error.detail))"
                )
            }
        }
        return WebhookSettings(
            schedule: schedule,
            timeout: .seconds(try ranged(reader, "webhooks.timeout_seconds", default: 15, 1...300)),
            concurrency: try ranged(reader, "webhooks.concurrency", default: defaults.concurrency, 1...10_000),
            perEndpointConcurrency: try ranged(
                reader,
                "webhooks.endpoint_concurrency",
                default: defaults.perEndpointConcurrency,
                1...1000
            ),
            allowsPrivateTargets: try flag(reader, "webhooks.allow_private_targets", default: isDevelopmentMode),
            disableFailingAfter: .seconds(
                3600 * (try ranged(reader, "webhooks.disable_after_hours", default: 120, 1...8760))
            )
        )
    }

    private static func policy(_ reader: ConfigReader, scope: String, base: NamespacePolicy) throws(ConfigurationError)
        -> NamespacePolicy
    {
        let count = try ranged(
            reader,
            scope + ".retention_count",
            default: base.retentionCount ?? 0,
            0...Int(Int32.max)
        )
        let seconds = try ranged(
            reader,
            scope + ".retention_seconds",
            default: base.retentionSeconds ?? 0,
            0...Int(Int32.max)
        )
        return NamespacePolicy(
            retentionCount: count == 0 ? nil : count,
            retentionSeconds: seconds == 0 ? nil : seconds,
            isPublic: try flag(reader, scope + ".public", default: base.isPublic),
            allowsClientPublish: try flag(reader, scope + ".client_publish", default: base.allowsClientPublish),
            hasPresence: try flag(reader, scope + ".presence", default: base.hasPresence),
            isPersonal: try flag(reader, scope + ".personal", default: base.isPersonal),
            mailboxBytes: try ranged(reader, scope + ".mailbox_bytes", default: base.mailboxBytes, 1024...(1 << 30)),
            mailboxEvents: try ranged(reader, scope + ".mailbox_events", default: base.mailboxEvents, 1...10_000_000)
        )
    }

    private static func flag(_ reader: ConfigReader, _ key: String, default value: Bool) throws(ConfigurationError)
        -> Bool
    {
        do {
            return try reader.requiredBool(forKey: ConfigKey(key))
        } catch {
            guard reader.string(forKey: ConfigKey(key)) == nil else {
                throw ConfigurationError(key: key, message: "must be true or false")
            }
            return value
        }
    }

    static func ranged(
        _ reader: ConfigReader,
        _ key: String,
        default value: Int,
        _ range: ClosedRange<Int>
    ) throws(ConfigurationError) -> Int {
        let read: Int
        do {
            read = try reader.requiredInt(forKey: ConfigKey(key))
        } catch {
            // Absent: the default. Present but not a whole number: refuse to start rather than guess.
            guard reader.string(forKey: ConfigKey(key)) == nil else {
                throw ConfigurationError(key: key, message: "must be a whole number")
            }
            read = value
        }
        guard range.contains(read) else {
            throw ConfigurationError(key: key, message: "must be within \(range.lowerBound)...\(range.upperBound)")
        }
        return read
    }
}

/// A configuration value that stops the server from starting.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    /// The key at fault.
    public let key: String
    /// What is wrong.
    public let message: String

    /// The text form.
    public var description: String { "configuration key \(key) \(message)" }
}

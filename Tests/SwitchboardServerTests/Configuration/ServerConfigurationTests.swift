import Configuration
import Foundation
import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardStore
import Testing

@Suite("Reading the server configuration")
struct ServerConfigurationTests {
    private func read(env: [String: String] = [:], flags: [AbsoluteConfigKey: ConfigValue] = [:]) throws
        -> ServerConfiguration
    {
        try ServerConfiguration(
            reader: ConfigReader(providers: [
                InMemoryProvider(name: "flags", values: flags),
                EnvironmentVariablesProvider(environmentVariables: env).prefixKeys(with: "switchboard"),
            ])
        )
    }

    @Test("With nothing set, the defaults are DESIGN.md's")
    func defaults() throws {
        let configuration = try read()
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.engine.store.dataDirectory == "./switchboard-data")
        #expect(configuration.engine.store.durability == .full)
        #expect(configuration.engine.isDevelopmentMode == false)
        #expect(configuration.engine.limits.maximumDataBytes == 65_536)
        #expect(configuration.engine.namespaces.defaultPolicy == NamespacePolicy())
        #expect(!configuration.webSocketNoDelay && !configuration.serverSentEventsNoDelay)
    }

    @Test("SWITCHBOARD_ variables set keys, and namespaces get their own policies")
    func environment() throws {
        let configuration = try read(env: [
            "SWITCHBOARD_HTTP_PORT": "9000",
            "SWITCHBOARD_DEV": "true",
            "SWITCHBOARD_STORE_DURABILITY": "normal",
            "SWITCHBOARD_NAMESPACES": "chat,orders",
            "SWITCHBOARD_NAMESPACE_CHAT_PUBLIC": "true",
            "SWITCHBOARD_NAMESPACE_CHAT_CLIENT_PUBLISH": "yes",
            "SWITCHBOARD_NAMESPACE_DEFAULT_RETENTION_COUNT": "50",
            "SWITCHBOARD_NAMESPACE_ORDERS_RETENTION_COUNT": "0",
            "SWITCHBOARD_STORE_DATABASE_URL": "postgres://sb:secret@db.internal:6432/events?sslmode=require",
            "SWITCHBOARD_STORE_CLUSTER_POLL_MS": "250",
            "SWITCHBOARD_SSE_TCP_NODELAY": "true",
        ])
        #expect(configuration.port == 9000)
        #expect(configuration.serverSentEventsNoDelay)
        #expect(!configuration.webSocketNoDelay)
        #expect(configuration.engine.isDevelopmentMode)
        #expect(configuration.engine.store.durability == .normal)
        #expect(configuration.engine.store.database?.host == "db.internal")
        #expect(configuration.engine.store.database?.port == 6432)
        #expect(configuration.engine.store.clusterPollMilliseconds == 250)
        let chat = configuration.engine.namespaces.policy(for: try ChannelName("chat:1"))
        #expect(chat.isPublic && chat.allowsClientPublish)
        #expect(chat.retentionCount == 50)
        #expect(configuration.engine.namespaces.policy(for: try ChannelName("orders")).retentionCount == nil)
        #expect(configuration.engine.namespaces.policy(for: try ChannelName("other")).retentionCount == 50)
    }

    @Test("The JWT secret, TLS files, origins and new namespace rules are read from their keys")
    func accessKeys() throws {
        let configuration = try read(env: [
            "SWITCHBOARD_JWT_SECRET": String(repeating: "s", count: 32),
            "SWITCHBOARD_TLS_CERT": "c.pem", "SWITCHBOARD_TLS_KEY": "k.pem",
            "SWITCHBOARD_HTTP_ALLOWED_ORIGINS": "https://a.example,https://b.example",
            "SWITCHBOARD_NAMESPACES": "room", "SWITCHBOARD_NAMESPACE_ROOM_PRESENCE": "true",
            "SWITCHBOARD_NAMESPACE_ROOM_PERSONAL": "true",
        ])
        #expect(configuration.clientTokens.isEnabled)
        #expect(configuration.tls == TLSFiles(certificateFile: "c.pem", keyFile: "k.pem"))
        #expect(configuration.allowedOrigins == ["https://a.example", "https://b.example"])
        let room = try #require(configuration.engine.namespaces.named["room"])
        #expect(room.hasPresence && room.isPersonal)
    }

    @Test("Flags win over environment variables")
    func flagsWin() throws {
        let configuration = try read(
            env: ["SWITCHBOARD_HTTP_PORT": "9000"],
            flags: ["http.port": .init(.int(7000), isSecret: false)]
        )
        #expect(configuration.port == 7000)
    }

    @Test(
        "A bad value stops startup with the key's name",
        arguments: [
            ("SWITCHBOARD_HTTP_PORT", "abc", "http.port"),
            ("SWITCHBOARD_HTTP_PORT", "70000", "http.port"),
            ("SWITCHBOARD_DEV", "maybe", "dev"),
            ("SWITCHBOARD_STORE_DURABILITY", "sometimes", "store.durability"),
            ("SWITCHBOARD_LIMITS_MAX_BATCH", "0", "limits.max_batch"),
            ("SWITCHBOARD_NAMESPACE_DEFAULT_MAILBOX_BYTES", "10", "namespace.default.mailbox_bytes"),
            ("SWITCHBOARD_JWT_SECRET", "too-short-for-hs256", "jwt.secret"),
            ("SWITCHBOARD_TLS_CERT", "/nonexistent/cert.pem", "tls.cert"),
            ("SWITCHBOARD_LIMITS_CONNECTION_COMMAND_RATE", "0", "limits.connection_command_rate"),
        ]
    )
    func badValues(variable: String, value: String, key: String) {
        #expect {
            _ = try read(env: [variable: value])
        } throws: { error in
            (error as? ConfigurationError)?.key == key
        }
    }

    @Test("Inbound sources come from sources and source.<name>.*, secrets from the environment too")
    func inboundSources() throws {
        let configuration = try read(env: [
            "SWITCHBOARD_SOURCES": "github,acme",
            "SWITCHBOARD_SOURCE_GITHUB_VERIFY": "github",
            "SWITCHBOARD_SOURCE_GITHUB_SECRETS": "new-secret,old-secret",
            "SWITCHBOARD_SOURCE_GITHUB_CHANNEL": "github",
            "SWITCHBOARD_SOURCE_ACME_VERIFY": "hmac",
            "SWITCHBOARD_SOURCE_ACME_SECRETS": "s",
            "SWITCHBOARD_SOURCE_ACME_CHANNEL": "acme",
            "SWITCHBOARD_SOURCE_ACME_HMAC_HEADER": "X-Acme-Signature",
            "SWITCHBOARD_SOURCE_ACME_HMAC_ENCODING": "base64",
            "SWITCHBOARD_SOURCE_ACME_ID_FROM": "json:meta.id",
            "SWITCHBOARD_SOURCE_ACME_MAX_BODY_BYTES": "4096",
        ])
        let sources = configuration.engine.inboundSources
        #expect(sources.map(\.name) == ["github", "acme"])
        #expect(sources.first?.secrets == ["new-secret", "old-secret"])
        #expect(sources.first?.scheme == .github)
        #expect(sources.last?.scheme == .hmac(HMACHeaderRule(header: "X-Acme-Signature", encoding: .base64)))
        #expect(sources.last?.idFrom == .json(["meta", "id"]))
        #expect(sources.last?.maximumBodyBytes == 4096)
        #expect(configuration.engine.store.inboundDeduplicationSeconds == 604_800)
    }

    @Test(
        "A bad source stops the start, naming it",
        arguments: [
            ["SWITCHBOARD_SOURCES": "x", "SWITCHBOARD_SOURCE_X_CHANNEL": "c", "SWITCHBOARD_SOURCE_X_SECRETS": "s"],
            ["SWITCHBOARD_SOURCES": "x", "SWITCHBOARD_SOURCE_X_VERIFY": "github", "SWITCHBOARD_SOURCE_X_CHANNEL": "c"],
            [
                "SWITCHBOARD_SOURCES": "x", "SWITCHBOARD_SOURCE_X_VERIFY": "github",
                "SWITCHBOARD_SOURCE_X_CHANNEL": "c",
                "SWITCHBOARD_SOURCE_X_SECRETS": "s", "SWITCHBOARD_SOURCE_X_MAX_BODY_BYTES": "lots",
            ],
        ]
    )
    func badSource(_ env: [String: String]) throws {
        #expect {
            try read(env: env)
        } throws: { error in
            "\(error)".contains("source.x")
        }
    }

    @Test("docs/configuration.md documents every key")
    func documented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let docs = try String(contentsOf: root.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
        for key in ServerConfiguration.keys {
            #expect(docs.contains("`\(key)`"), "docs/configuration.md does not mention \(key)")
        }
    }
}

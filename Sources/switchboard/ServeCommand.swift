import ArgumentParser
import Configuration
import Foundation
import Logging
import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardStore

/// `switchboard serve`: runs the server until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the server (embedded SQLite unless --database names PostgreSQL)."
    )

    @Option(help: "Address to listen on (default 127.0.0.1).") var host: String?
    @Option(help: "Port to listen on (default 8080).") var port: Int?
    @Option(name: .customLong("data-dir"), help: "Data directory (default ./switchboard-data).") var dataDirectory:
        String?
    @Option(name: .customLong("config"), help: "A JSON configuration file.") var configFile: String?
    @Option(help: "PostgreSQL URL, postgres://user:password@host:5432/database (instead of the embedded store).")
    var database: String?
    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain: serve HTTPS and WSS on the same port.")
    var tlsCertificate: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert.") var tlsKey: String?
    @Flag(help: "Development mode: no key or token needed anywhere. Never expose it.") var dev = false
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel: String = "info"

    func run() async throws {
        var flags: [AbsoluteConfigKey: ConfigValue] = [:]
        if let host { flags["http.host"] = .init(.string(host), isSecret: false) }
        if let port { flags["http.port"] = .init(.int(port), isSecret: false) }
        if let dataDirectory { flags["data.dir"] = .init(.string(dataDirectory), isSecret: false) }
        if let database { flags["store.database_url"] = .init(.string(database), isSecret: true) }
        if dev { flags["dev"] = .init(.bool(true), isSecret: false) }
        if let tlsCertificate { flags["tls.cert"] = .init(.string(tlsCertificate), isSecret: false) }
        if let tlsKey { flags["tls.key"] = .init(.string(tlsKey), isSecret: false) }
        var providers: [any ConfigProvider] = [
            InMemoryProvider(name: "flags", values: flags),
            EnvironmentVariablesProvider().prefixKeys(with: "switchboard"),
        ]
        if let configFile {
            guard FileManager.default.fileExists(atPath: configFile) else {
                throw ValidationError("--config \(configFile): no such file")
            }
            let boot = ConfigReader(
                provider: InMemoryProvider(values: ["filePath": .init(.string(configFile), isSecret: false)])
            )
            do {
                providers.append(try await FileProvider<JSONSnapshot>(config: boot))
            } catch {
                throw ValidationError("--config \(configFile) is not valid JSON configuration: \(error)")
            }
        }
        let configuration = try ServerConfiguration(reader: ConfigReader(providers: providers))
        // Keys nothing reads stop the server: a typo must not pass as a setting.
        let keyCheck = ConfigurationKeyCheck(
            namespaces: Array(configuration.engine.namespaces.named.keys),
            sources: configuration.engine.inboundSources.map(\.name),
            pusherApps: configuration.pusherApps.all.map(\.id)
        )
        try keyCheck.check(environment: ProcessInfo.processInfo.environment)
        if let configFile {
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: configFile)))
            guard let file = try? JSONParser.parse(bytes) else {
                throw ValidationError("--config \(configFile) is not valid JSON")
            }
            try keyCheck.check(file: file)
        }
        var logger = Logger(label: "switchboard")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        try await SwitchboardApplication.run(configuration: configuration, logger: logger) { port, newKey in
            if let newKey {
                print(
                    """
                    Created the admin API key (shown once; also saved to \(configuration.engine.store.dataDirectory)/admin.key):
                      \(newKey)
                    """
                )
            }
            let scheme = configuration.tls == nil ? "http" : "https"
            print("Switchboard listening on \(scheme)://\(configuration.host):\(port)")
            Output.flush()
        }
    }
}

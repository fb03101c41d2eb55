import ArgumentParser
import Foundation

/// Where the server is and how to authenticate: `--url`, `--key`, or the admin key the server saved
/// in its data directory.
struct ClientOptions: ParsableArguments {
    @Option(help: "Server base URL.") var url: String = "http://127.0.0.1:8080"
    @Option(help: "API key (default: $SWITCHBOARD_API_KEY, then <data dir>/admin.key).") var key: String?
    @Option(name: .customLong("data-dir"), help: "Data directory holding admin.key.") var dataDirectory: String =
        "./switchboard-data"

    /// The credential to present, if any is found.
    var credential: String? {
        if let key { return key }
        if let key = ProcessInfo.processInfo.environment["SWITCHBOARD_API_KEY"], !key.isEmpty { return key }
        guard let text = try? String(contentsOfFile: dataDirectory + "/admin.key", encoding: .utf8) else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }
}

import Foundation
import Testing

/// `switchboard serve` refuses configuration it would not read, naming the key and the nearest one.
@Suite("serve refuses unknown configuration keys")
struct ServeConfigurationTests {
    private static func serve(config: String?, environment: [String: String] = [:]) async throws -> (
        status: Int32?, message: String?
    ) {
        let directory = FileManager.default.temporaryDirectory.path + "/switchboard-config-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var arguments = ["serve", "--port", "0", "--data-dir", directory + "/data"]
        if let config {
            let path = directory + "/switchboard.json"
            try config.write(toFile: path, atomically: true, encoding: .utf8)
            arguments += ["--config", path]
        }
        let command = try RunningCommand(arguments, capturingStandardError: true, environment: environment)
        let message = await command.waitForLine(containing: "configuration key")
        return (await command.waitForExit(), message)
    }

    @Test("A misspelled namespace setting in the file stops the server with the key and its nearest known key")
    func misspelledInFile() async throws {
        let (status, message) = try await Self.serve(
            config: #"{"namespaces":["chat"],"namespace":{"chat":{"publik":true}}}"#
        )
        #expect(status != nil && status != 0)
        #expect(message?.contains("namespace.chat.publik") == true, "got \(message ?? "nothing")")
        #expect(message?.contains("namespace.chat.public") == true, "got \(message ?? "nothing")")
    }

    @Test("Settings for a namespace missing from namespaces stop the server and say so")
    func unlistedNamespace() async throws {
        let (status, message) = try await Self.serve(config: #"{"namespace":{"orders":{"public":true}}}"#)
        #expect(status != nil && status != 0)
        #expect(message?.contains("namespace.orders.public") == true, "got \(message ?? "nothing")")
        #expect(message?.contains("namespaces") == true, "got \(message ?? "nothing")")
    }

    @Test("A misspelled SWITCHBOARD_ variable stops the server with the variable and its nearest known one")
    func misspelledVariable() async throws {
        let (status, message) = try await Self.serve(config: nil, environment: ["SWITCHBOARD_HTTP_PROT": "9000"])
        #expect(status != nil && status != 0)
        #expect(message?.contains("SWITCHBOARD_HTTP_PROT") == true, "got \(message ?? "nothing")")
        #expect(message?.contains("SWITCHBOARD_HTTP_PORT") == true, "got \(message ?? "nothing")")
    }
}

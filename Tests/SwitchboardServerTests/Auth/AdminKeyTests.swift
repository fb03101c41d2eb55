import Foundation
import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// The admin key made on first start (`AdminKeyBootstrap`), seen from outside the process.
@Suite("The admin key")
struct AdminKeyTests {
    private static func permissions(of path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let mode = try #require(attributes[.posixPermissions] as? NSNumber, "no permissions for \(path)")
        return mode.intValue & 0o777
    }

    /// Every file of the data directory except `admin.key` (the database, its WAL and shared memory).
    private static func storeFiles(in directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0 != "admin.key" }
            .map { directory + "/" + $0 }
    }

    @Test("admin.key is created on first start, owner-only (0600), holding the sbk_ key that works")
    func keyFile() async throws {
        try await TestServer.with { server in
            let path = server.dataDirectory + "/admin.key"
            let permissions = try Self.permissions(of: path)
            #expect(permissions == 0o600)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let key = text.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(key.hasPrefix("sbk_") && key.count > 20)
            #expect(key == server.adminKey)
            #expect(!key.contains(" "))
            #expect(try await TestHTTP(baseURL: server.baseURL, key: key).publish("orders")["offset"]?.intValue == 1)
        }
    }

    @Test("The data directory is owner-only (0700)")
    func dataDirectoryPermissions() async throws {
        try await TestServer.with { server in
            let permissions = try Self.permissions(of: server.dataDirectory)
            #expect(permissions == 0o700)
        }
    }

    @Test("The admin key is created in development mode too")
    func keyInDevelopmentMode() async throws {
        try await TestServer.with(configure: { $0.engine.isDevelopmentMode = true }) { server in
            let text = try String(contentsOfFile: server.dataDirectory + "/admin.key", encoding: .utf8)
            #expect(text.hasPrefix("sbk_"))
            let permissions = try Self.permissions(of: server.dataDirectory + "/admin.key")
            #expect(permissions == 0o600)
        }
    }

    @Test("The database never contains the admin key, while running or after shutdown")
    func databaseHoldsNoKey() async throws {
        try await TestServer.with { server in
            let key = server.adminKey
            try #require(key.hasPrefix("sbk_"))
            let needle = Data(key.utf8)
            let http = TestHTTP(server)
            for _ in 1...3 { try await http.publish("orders", data: #"{"seen":"by the key"}"#) }

            let running = try Self.storeFiles(in: server.dataDirectory)
            #expect(running.contains { $0.hasSuffix("switchboard.sqlite") })
            for file in running {
                #expect(try Data(contentsOf: URL(fileURLWithPath: file)).range(of: needle) == nil, "\(file)")
            }

            try await server.stop()
            let stopped = try Self.storeFiles(in: server.dataDirectory)
            #expect(!stopped.isEmpty)
            for file in stopped {
                #expect(try Data(contentsOf: URL(fileURLWithPath: file)).range(of: needle) == nil, "\(file)")
            }
        }
    }
}

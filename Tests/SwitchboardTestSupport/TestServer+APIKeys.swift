import Foundation
import Logging
import SwitchboardCore
import SwitchboardEngine
import SwitchboardStore

extension TestServer {
    /// Adds an API key with `scopes` (e.g. `["publish:orders"]`) and returns it. The server has no key
    /// API yet, so the key is written into the stopped server's database, and the server started again
    /// on the same data and port.
    public func addAPIKey(name: String = "test", scopes: [String]) async throws -> String {
        let parsed = try scopes.map { text throws(SwitchboardError) in try Scope(text) }
        try await stop()
        var generator = SystemRandomNumberGenerator()
        let key = APIKeyGenerator.makeKey(using: &generator)
        var logger = Logger(label: "test-api-keys")
        logger.logLevel = .critical
        let database = try await SQLiteStorage.open(configuration: engineConfiguration.store, logger: logger)
        let record = APIKeyRecord(
            id: "key_" + RandomToken.base62(count: 16, using: &generator),
            name: name,
            digest: APIKeyDigest(of: key),
            scopes: parsed,
            created: Timestamp(millisecondsSinceEpoch: 1_800_000_000_000),
            lastUsed: nil
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await database.writer.run() }
            do {
                try await SQLiteAdminStore(database: database).insertAPIKey(record)
            } catch {
                database.writer.close()
                try? await group.waitForAll()
                await database.close()
                throw error
            }
            database.writer.close()
            try await group.waitForAll()
        }
        await database.close()
        try await start()
        return key
    }
}

import FoundationEssentials
import Glibc
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Prometheus
import SwitchboardCore
import SwitchboardEngine
import SwitchboardStore

/// Creates the first admin API key on first start (in every mode, `--dev` included): only its digest
/// goes into the database; the key itself is written to `<data dir>/admin.key` with owner-only
/// permissions, where the CLI on the same machine finds it, and shown once.
enum AdminKeyBootstrap {
    /// The file the CLI reads the admin key from.
    static func keyPath(dataDirectory: String) -> String { dataDirectory + "/admin.key" }

    /// Returns the new key when one was created, nil when keys already exist.
    static func ensureAdminKey(
        store: any AdminStore,
        dataDirectory: String,
        now: Timestamp,
        using generator: inout some RandomNumberGenerator
    ) async throws -> String? {
        guard try await store.listAPIKeys().isEmpty else { return nil }
        let (key, record) = APIKeyRecord.make(name: "admin", scopes: [.admin], created: now, using: &generator)
        try writeOwnerOnly(key + "\n", to: keyPath(dataDirectory: dataDirectory))
        try await store.insertAPIKey(record)
        return key
    }

    private static func writeOwnerOnly(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw StoreError("cannot create \(path): errno \(errno)") }
        defer { close(fd) }
        fchmod(fd, 0o600)
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else { throw StoreError("cannot write \(path)") }
    }

    /// Creates the data directory (owner-only) when missing.
    static func prepareDataDirectory(_ path: String) throws {
        var isDirectory = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            try FileManager.default.createDirectory(
                atPath: path,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        }
    }
}

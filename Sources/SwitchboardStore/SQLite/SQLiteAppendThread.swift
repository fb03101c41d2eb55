import NIOPosix

/// The writer's own thread and the direct connection it owns: a group commit is one call onto it.
final class SQLiteAppendThread: Sendable {
    private let pool: NIOThreadPool
    private let connection: SQLiteDirectConnection

    /// Opens the connection (the database at `path` must be migrated) and starts the thread.
    init(path: String, synchronous: String) throws {
        self.connection = try SQLiteDirectConnection.open(path: path, synchronous: synchronous)
        self.pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
    }

    /// Runs `body` with the connection on the thread.
    func run<T: Sendable>(_ body: @escaping @Sendable (SQLiteDirectConnection) throws -> T) async throws -> T {
        let connection = self.connection
        return try await pool.runIfActive { try body(connection) }
    }

    /// Closes the connection on the thread, then stops the thread; the writer must have stopped.
    func close() async {
        let connection = self.connection
        try? await pool.runIfActive { connection.close() }
        try? await pool.shutdownGracefully()
    }
}

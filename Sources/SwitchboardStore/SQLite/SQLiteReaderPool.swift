import NIOConcurrencyHelpers
import SQLiteNIO

/// Lends each reader connection to one query at a time.
///
/// SQLite keeps a connection's read transaction open while any of its statements is active, and a
/// statement that starts meanwhile joins it. Two queries overlapping on one connection would therefore
/// read the snapshot of the first: overlapping reads could keep a connection on a snapshot older than
/// an append already acknowledged, and a reader resuming from an offset it received live would be told
/// its cursor is beyond the head. One query per connection makes every read start a fresh snapshot.
final class SQLiteReaderPool: Sendable {
    private struct State {
        var idle: [SQLiteConnection]
        var waiting: [CheckedContinuation<SQLiteConnection?, Never>] = []
        var lent = 0
        var isClosed = false
        /// `close()` waiting for the last lent connection.
        var drained: CheckedContinuation<Void, Never>?
    }

    private let all: [SQLiteConnection]
    private let state: NIOLockedValueBox<State>

    init(_ connections: [SQLiteConnection]) {
        all = connections
        state = NIOLockedValueBox(State(idle: connections))
    }

    /// Runs `query` on a connection no other query is using, waiting for one to be returned when all
    /// are lent; throws once the pool is closed.
    func withConnection<Result: Sendable>(
        _ query: (SQLiteConnection) async throws -> Result
    ) async throws -> Result {
        guard let connection = await borrow() else { throw StoreError("the store is closed") }
        defer { giveBack(connection) }
        return try await query(connection)
    }

    /// Refuses further reads, waits for the lent connections and closes every connection.
    func close() async {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<SQLiteConnection?, Never>] in
            state.isClosed = true
            defer { state.waiting.removeAll() }
            return state.waiting
        }
        for waiter in waiters { waiter.resume(returning: nil) }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let isDrained = state.withLockedValue { state -> Bool in
                guard state.lent > 0 else { return true }
                state.drained = continuation
                return false
            }
            if isDrained { continuation.resume() }
        }
        for connection in all { try? await connection.close() }
    }

    private func borrow() async -> SQLiteConnection? {
        enum Answer {
            case lent(SQLiteConnection)
            case closed
            case wait
        }
        let answer = state.withLockedValue { state -> Answer in
            if state.isClosed { return .closed }
            guard let connection = state.idle.popLast() else { return .wait }
            state.lent += 1
            return .lent(connection)
        }
        switch answer {
        case .lent(let connection): return connection
        case .closed: return nil
        case .wait: break
        }
        return await withCheckedContinuation { continuation in
            let immediate = state.withLockedValue { state -> Answer in
                if state.isClosed { return .closed }
                if let connection = state.idle.popLast() {
                    state.lent += 1
                    return .lent(connection)
                }
                state.waiting.append(continuation)
                return .wait
            }
            switch immediate {
            case .lent(let connection): continuation.resume(returning: connection)
            case .closed: continuation.resume(returning: nil)
            case .wait: break
            }
        }
    }

    private func giveBack(_ connection: SQLiteConnection) {
        let (next, drained) = state.withLockedValue {
            state -> (CheckedContinuation<SQLiteConnection?, Never>?, CheckedContinuation<Void, Never>?) in
            if !state.waiting.isEmpty { return (state.waiting.removeFirst(), nil) }  // stays lent, to the next query
            state.lent -= 1
            state.idle.append(connection)
            guard state.lent == 0, let drained = state.drained else { return (nil, nil) }
            state.drained = nil
            return (nil, drained)
        }
        next?.resume(returning: connection)
        drained?.resume()
    }
}

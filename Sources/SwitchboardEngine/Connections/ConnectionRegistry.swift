import NIOConcurrencyHelpers
public import SwitchboardCore

/// A real-time connection (WebSocket or SSE stream) as the registry sees it.
public protocol RegisteredConnection: AnyObject, Sendable {
    /// Ends the connection (a close frame with `code` on WebSocket, the end of the stream on SSE); called
    /// from any thread.
    func disconnect(_ code: CloseCode, reason: String)
}

/// The real-time connections of this server by user and by client address: enforces the per-user and
/// per-address limits, counts a user's connections and disconnects them on an administrator's request.
public final class ConnectionRegistry: Sendable {
    private struct State {
        var byUser: [String: [ObjectIdentifier: any RegisteredConnection]] = [:]
        var byAddress: [String: Int] = [:]
    }

    private let state = NIOLockedValueBox(State())
    private let maximumPerUser: Int
    private let maximumPerAddress: Int

    /// Makes a registry with these limits.
    public init(maximumPerUser: Int, maximumPerAddress: Int) {
        self.maximumPerUser = maximumPerUser
        self.maximumPerAddress = maximumPerAddress
    }

    /// Counts a connection from `address`; `rateLimited` when the address has its maximum already.
    public func admit(address: String) throws(SwitchboardError) {
        let admitted = state.withLockedValue { state -> Bool in
            let count = state.byAddress[address, default: 0]
            guard count < maximumPerAddress else { return false }
            state.byAddress[address] = count + 1
            return true
        }
        guard admitted else {
            throw SwitchboardError(
                .rateLimited,
                "at most \(maximumPerAddress) connections from one address",
                retryAfterSeconds: 10
            )
        }
    }

    /// Forgets a connection admitted from `address`.
    public func release(address: String) {
        state.withLockedValue { state in
            let count = state.byAddress[address, default: 1] - 1
            state.byAddress[address] = count > 0 ? count : nil
        }
    }

    /// Files `connection` under `user`; `rateLimited` when the user has its maximum already.
    public func attach(_ connection: any RegisteredConnection, user: String) throws(SwitchboardError) {
        let id = ObjectIdentifier(connection)
        let attached = state.withLockedValue { state -> Bool in
            var connections = state.byUser[user] ?? [:]
            if connections[id] != nil { return true }
            guard connections.count < maximumPerUser else { return false }
            connections[id] = connection
            state.byUser[user] = connections
            return true
        }
        guard attached else {
            throw SwitchboardError(
                .rateLimited,
                "at most \(maximumPerUser) connections per user",
                retryAfterSeconds: 10
            )
        }
    }

    /// Removes `connection` from `user`'s connections.
    public func detach(_ connection: any RegisteredConnection, user: String) {
        state.withLockedValue { state in
            state.byUser[user]?[ObjectIdentifier(connection)] = nil
            if state.byUser[user]?.isEmpty == true { state.byUser[user] = nil }
        }
    }

    /// Gives back what a closing connection held: its place under `user` and its count at `address`.
    public func leave(_ connection: any RegisteredConnection, user: String?, address: String?) {
        if let user { detach(connection, user: user) }
        if let address { release(address: address) }
    }

    /// How many connections `user` has open on this server.
    public func connectionCount(of user: String) -> Int {
        state.withLockedValue { $0.byUser[user]?.count ?? 0 }
    }

    /// Closes every connection of `user` with `4003`; returns how many there were.
    public func disconnect(user: String, reason: String) -> Int {
        let connections = state.withLockedValue { state in
            state.byUser.removeValue(forKey: user).map { Array($0.values) } ?? []
        }
        for connection in connections { connection.disconnect(.forbidden, reason: reason) }
        return connections.count
    }
}

/// A reconnect loop as a pure state machine (the client's connection to a server, a node's listening
/// connection to its database): the loop feeds it what happened to each connection and executes the
/// action it returns. A connection that opened resets the backoff; one
/// that failed before opening waits longer each time; a fatal refusal (bad credentials, a forbidden
/// channel) and cancellation end the loop, since reconnecting cannot help.
public struct ReconnectLoop: Sendable, Equatable {
    /// Where the loop is.
    public enum State: Sendable, Equatable {
        /// Not started.
        case idle
        /// Connection attempt `attempt` (0: the first since the last open connection) is under way.
        case connecting(attempt: Int)
        /// The connection opened.
        case open
        /// Waiting out the backoff before the next attempt.
        case waiting(attempt: Int)
        /// Ended for good.
        case closed
    }

    /// What happened.
    public enum Event: Sendable, Equatable {
        /// Start following.
        case start
        /// The server welcomed the connection.
        case opened
        /// The connection ended or could not be made; `isFatal` when reconnecting cannot help.
        case connectionEnded(isFatal: Bool)
        /// The backoff before the next attempt passed.
        case backoffElapsed
        /// The task was cancelled.
        case cancelled
    }

    /// What the loop does next.
    public enum Action: Sendable, Equatable {
        case none
        /// Connect; `isReconnect` after a connection was lost or could not be made.
        case connect(isReconnect: Bool)
        /// Wait the backoff of `attempt` (see `ReconnectPolicy.delay(attempt:using:)`).
        case wait(attempt: Int)
        /// Report `closed` and end the loop.
        case close
    }

    /// The current state.
    public private(set) var state = State.idle

    /// Makes a loop that has not started.
    public init() {}

    /// Takes what happened; returns what to do.
    public mutating func event(_ event: Event) -> Action {
        switch (state, event) {
        case (.closed, _):
            return .none
        case (_, .cancelled):
            state = .closed
            return .close
        case (.idle, .start):
            state = .connecting(attempt: 0)
            return .connect(isReconnect: false)
        case (.connecting, .opened):
            state = .open
            return .none
        case (.connecting, .connectionEnded(isFatal: true)), (.open, .connectionEnded(isFatal: true)):
            state = .closed
            return .close
        case (.connecting(let attempt), .connectionEnded(isFatal: false)):
            state = .waiting(attempt: attempt)
            return .wait(attempt: attempt)
        case (.open, .connectionEnded(isFatal: false)):
            // It was open: the next wait starts from the shortest backoff again.
            state = .waiting(attempt: 0)
            return .wait(attempt: 0)
        case (.waiting(let attempt), .backoffElapsed):
            state = .connecting(attempt: attempt + 1)
            return .connect(isReconnect: true)
        case (.idle, _), (.connecting, _), (.open, _), (.waiting, _):
            return .none
        }
    }
}

/// The client's reconnect loop as a pure state machine: the loop feeds it what happened to each
/// connection and executes the action it returns. A connection that opened resets the backoff; one
/// that failed before opening waits longer each time; a fatal refusal (bad credentials, a forbidden
/// channel) and cancellation end the loop, since reconnecting cannot help.
struct ReconnectLoop: Equatable {
    enum State: Equatable {
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

    enum Event: Equatable {
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

    enum Action: Equatable {
        case none
        /// Report `state` and connect.
        case connect(ConnectionState)
        /// Wait the backoff of `attempt` (see `ReconnectPolicy.delay(attempt:using:)`).
        case wait(attempt: Int)
        /// Report `closed` and end the loop.
        case close
    }

    private(set) var state = State.idle

    mutating func event(_ event: Event) -> Action {
        switch (state, event) {
        case (.closed, _):
            return .none
        case (_, .cancelled):
            state = .closed
            return .close
        case (.idle, .start):
            state = .connecting(attempt: 0)
            return .connect(.connecting)
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
            return .connect(.reconnecting)
        case (.idle, _), (.connecting, _), (.open, _), (.waiting, _):
            return .none
        }
    }
}

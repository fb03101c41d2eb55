/// How a real-time connection (a WebSocket or an SSE stream) ends, as a pure state machine: the
/// handler feeds it what happened and executes the action it returns. Every close path goes through
/// it — ours (overflow, an expired token, shutdown, a protocol error), theirs (a close frame, a
/// half-closed socket), a missed deadline — so that each ends the same way:
///
/// 1. `.sayGoodbye`: deliveries stop and presence is left at once, the goodbye (a close frame, the
///    stream's last chunk) is written, and the close deadline is armed;
/// 2. `.closeSocket`: once the goodbye is written, the peer's close arrives, or the deadline passes —
///    a peer that stops reading is cut off, never waited on;
/// 3. `.release`: once the socket is really closed, and only then, the connection stops counting
///    against the per-address and per-user limits.
struct ConnectionClosing {
    enum State: Equatable {
        /// Delivering.
        case open
        /// The goodbye is on its way; the deadline is armed.
        case closing
        /// The socket is closed and everything released.
        case closed
    }

    enum Event: Equatable {
        /// The server ends the connection.
        case close
        /// The peer sent its close frame.
        case peerClose
        /// The peer shut its side (end of input) or vanished.
        case inputClosed
        /// The goodbye was written (or failed to be).
        case goodbyeWritten
        /// The close deadline passed.
        case deadline
        /// The socket is closed (the channel went inactive or the handler was removed).
        case socketClosed
    }

    enum Action: Equatable {
        case none
        /// Stop deliveries, leave presence, write the goodbye and arm the deadline.
        case sayGoodbye
        /// Close the socket now.
        case closeSocket
        /// Cancel timers and release the connection's places in the limits.
        case release
    }

    private(set) var state = State.open

    /// Whether the connection still delivers.
    var isOpen: Bool { state == .open }

    mutating func event(_ event: Event) -> Action {
        switch (state, event) {
        case (.open, .close), (.open, .peerClose):
            state = .closing
            return .sayGoodbye
        case (.open, .inputClosed), (.closing, .inputClosed):
            // Nobody is left to read a goodbye.
            state = .closing
            return .closeSocket
        case (.closing, .peerClose), (.closing, .goodbyeWritten), (.closing, .deadline):
            // Both sides said goodbye, ours left, or the peer had its chance.
            return .closeSocket
        case (.open, .socketClosed), (.closing, .socketClosed):
            state = .closed
            return .release
        case (.closing, .close), (.open, .goodbyeWritten), (.open, .deadline), (.closed, _):
            return .none
        }
    }
}

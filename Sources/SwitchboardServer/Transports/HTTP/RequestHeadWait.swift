/// The time between requests on a plain HTTP connection, as a pure state machine (PROTOCOL.md
/// "Operations"): from the moment a connection opens, and again after each response, the peer owes
/// a complete request head. Until it arrives the connection is *waiting*: it counts against the
/// per-address cap of waiting connections and has a deadline — `requestHead` for a new connection,
/// `idle` for a kept-alive one. A peer that sends a byte a minute never completes a head, so the
/// deadline closes it. Once a head arrives the rest of the request (its body) is owed within
/// `requestBody`, so a body sent a byte a minute is closed too; once the request is complete nothing
/// is owed until the response ends (a long-poll or an SSE stream is a request in progress, never idle).
struct RequestHeadWait {
    enum State: Equatable {
        /// Waiting for a request head.
        case waiting
        /// The head arrived; the rest of the request (its body) is still owed.
        case readingRequest
        /// A request is being served.
        case serving
        /// The connection is closed.
        case closed
    }

    enum Event: Equatable {
        /// The connection opened.
        case opened
        /// A complete request head arrived.
        case headReceived
        /// The request's last part (the end of its body) arrived.
        case requestReceived
        /// The response to the current request ended (the connection is kept alive).
        case responseEnded
        /// The armed deadline passed.
        case deadlinePassed
        /// The connection closed, or left HTTP (a WebSocket upgrade).
        case closed
    }

    /// Which deadline applies.
    enum Deadline: Equatable {
        /// For the first request head of a connection.
        case requestHead
        /// Between requests on a kept-alive connection.
        case idle
        /// For the rest of a request once its head arrived.
        case requestBody
    }

    enum Action: Equatable {
        case none
        /// Count the connection as waiting (closing it when its address is at the cap) and arm `Deadline`.
        case startWaiting(Deadline)
        /// Stop counting it as waiting and cancel the deadline.
        case stopWaiting
        /// Stop counting it as waiting (it is being served) and arm the `requestBody` deadline.
        case awaitRequestBody
        /// Close the connection: it did not send a head in time (it is no longer counted).
        case closeConnection
    }

    private(set) var state = State.serving

    mutating func event(_ event: Event) -> Action {
        switch (state, event) {
        case (.serving, .opened):
            state = .waiting
            return .startWaiting(.requestHead)
        case (.serving, .responseEnded):
            state = .waiting
            return .startWaiting(.idle)
        case (.waiting, .headReceived):
            state = .readingRequest
            return .awaitRequestBody
        case (.readingRequest, .requestReceived):
            state = .serving
            return .stopWaiting
        case (.readingRequest, .responseEnded):
            // Answered before the whole body came (a refusal): what follows is the next request.
            state = .waiting
            return .startWaiting(.idle)
        case (.waiting, .deadlinePassed), (.readingRequest, .deadlinePassed):
            state = .closed
            return .closeConnection
        case (.waiting, .closed), (.readingRequest, .closed):
            state = .closed
            return .stopWaiting
        case (.serving, .closed):
            state = .closed
            return .none
        case (.waiting, .opened), (.waiting, .responseEnded), (.waiting, .requestReceived), (.serving, .headReceived),
            (.serving, .requestReceived), (.serving, .deadlinePassed), (.readingRequest, .opened),
            (.readingRequest, .headReceived), (.closed, _):
            return .none
        }
    }
}

import NIOConcurrencyHelpers
public import SwitchboardCore

/// A connection that forwards relayed deliveries to a developer's local app (`switchboard listen`).
public protocol WebhookRelayListener: AnyObject, Sendable {
    /// Sends one signed delivery to the listener; the answer comes back through `WebhookRelays.complete`.
    func forward(delivery: String, headers: [(String, String)], body: String)
}

/// The listeners of `relay://` endpoints and the relayed deliveries waiting for their answer. A
/// delivery to a `relay://` endpoint is made like any other (signed, recorded, retried), but travels
/// over the listener's WebSocket instead of a new HTTP connection.
public final class WebhookRelays: Sendable {
    /// What a relayed attempt produced.
    public struct Outcome: Sendable {
        /// The local app's status, or nil.
        public var status: Int?
        /// What went wrong, or nil.
        public var error: String?
        /// The start of the local app's answer.
        public var body: String?

        /// Makes an outcome.
        public init(status: Int? = nil, error: String? = nil, body: String? = nil) {
            self.status = status
            self.error = error
            self.body = body
        }
    }

    private struct Waiting {
        let endpoint: String
        let continuation: CheckedContinuation<Outcome, Never>
    }

    private struct State {
        var listeners: [String: any WebhookRelayListener] = [:]
        var waiting: [String: Waiting] = [:]
    }

    private let state = NIOLockedValueBox(State())

    /// Makes an empty registry.
    public init() {}

    /// `listener` now receives `endpoint`'s deliveries (replacing an earlier listener).
    public func attach(_ listener: any WebhookRelayListener, to endpoint: String) {
        state.withLockedValue { $0.listeners[endpoint] = listener }
    }

    /// `listener` went away: its endpoint's waiting deliveries fail.
    public func detach(_ listener: any WebhookRelayListener) {
        let failed = state.withLockedValue { state -> [Waiting] in
            let endpoints = state.listeners.filter { $0.value === listener }.map(\.key)
            for endpoint in endpoints { state.listeners[endpoint] = nil }
            let ids = state.waiting.filter { endpoints.contains($0.value.endpoint) }.map(\.key)
            return ids.compactMap { state.waiting.removeValue(forKey: $0) }
        }
        for waiting in failed {
            waiting.continuation.resume(returning: Outcome(error: "the listener disconnected"))
        }
    }

    /// The answer to a relayed delivery arrived (from the listener of `endpoint` only).
    public func complete(delivery: String, from listener: any WebhookRelayListener, outcome: Outcome) {
        let waiting = state.withLockedValue { state -> Waiting? in
            guard let waiting = state.waiting[delivery], state.listeners[waiting.endpoint] === listener else {
                return nil
            }
            return state.waiting.removeValue(forKey: delivery)
        }
        waiting?.continuation.resume(returning: outcome)
    }

    /// Relays one delivery and waits (at most `timeout`) for the answer.
    func relay(
        delivery: String,
        endpoint: String,
        headers: [(String, String)],
        body: String,
        timeout: Duration
    ) async -> Outcome {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: timeout)
                guard !Task.isCancelled else { return }
                self.finish(
                    delivery,
                    Outcome(error: "no answer from the listener within \(timeout.wholeMilliseconds) ms")
                )
            }
            let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
                let listener = state.withLockedValue { state -> (any WebhookRelayListener)? in
                    guard let listener = state.listeners[endpoint] else { return nil }
                    state.waiting[delivery] = Waiting(endpoint: endpoint, continuation: continuation)
                    return listener
                }
                guard let listener else {
                    return continuation.resume(
                        returning: Outcome(error: "no `switchboard listen` is connected for this endpoint")
                    )
                }
                listener.forward(delivery: delivery, headers: headers, body: body)
            }
            group.cancelAll()
            return outcome
        }
    }

    private func finish(_ delivery: String, _ outcome: Outcome) {
        state.withLockedValue { $0.waiting.removeValue(forKey: delivery) }?.continuation.resume(returning: outcome)
    }
}

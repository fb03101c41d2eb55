import NIOCore
import SwitchboardCore
import SwitchboardEngine
import SwitchboardStore

/// `switchboard listen`: a connection with the admin scope may take the deliveries of a `relay://`
/// endpoint, forward them to a local app and answer with its status.
extension WebSocketConnection: WebhookRelayListener {
    func listen(to endpointID: String, ref: JSONValue?) {
        guard principal.isAdmin || engine.configuration.isDevelopmentMode else {
            return sendError(SwitchboardError(.forbidden, "listen needs an API key with the admin scope"), ref: ref)
        }
        let engine = engine
        let store = engine.adminStore
        let relays = engine.relays
        let loop = eventLoop
        Task {
            let endpoint = try? await store.endpoint(id: endpointID)
            loop.execute {
                guard !self.isTornDown, !self.isClosing else { return }
                guard let endpoint else {
                    return self.sendError(SwitchboardError(.notFound, "no such endpoint"), ref: ref)
                }
                guard endpoint.settings.isRelay else {
                    return self.sendError(
                        SwitchboardError(
                            .badRequest,
                            "only an endpoint with url \(EndpointSettings.relayURL) can be listened to"
                        ),
                        ref: ref
                    )
                }
                self.isRelayListener = true
                relays.attach(self, to: endpoint.id)
                self.send(ServerMessage.listening(endpoint: endpoint.id, ref: ref))
                // Deliveries that failed while no one listened are due again now.
                Task { try? await engine.expediteDeliveries(endpoint: endpoint.id) }
            }
        }
    }

    func relayed(delivery: String, status: Int?, error: String?, body: String?) {
        engine.relays.complete(
            delivery: delivery,
            from: self,
            outcome: WebhookRelays.Outcome(status: status, error: error, body: body)
        )
    }

    /// Called by the delivery worker, from any thread.
    func forward(delivery: String, headers: [(String, String)], body: String) {
        let message = ServerMessage.webhook(delivery: delivery, headers: headers, body: body)
        eventLoop.execute {
            self.send(message)
        }
    }
}

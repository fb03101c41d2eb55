import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTPTypes
import NIOWebSocket
import Prometheus
import SwitchboardCore
import SwitchboardEngine
import SwitchboardStore

extension WebSocketConnection {
    /// Decodes and runs one client command.
    func handleText(_ message: ByteBuffer) {
        let bytes = Array(message.readableBytesView)
        let envelope: ClientCommand.Envelope
        do {
            envelope = try ClientCommand.decode(bytes, limits: engine.configuration.limits)
        } catch {
            sendError(error.error, ref: error.ref)
            return
        }
        let ref = envelope.ref
        switch envelope.command {
        case .ping:
            send(ServerMessage.pong(ref: ref))
        case .auth(let token):
            authenticate(token, ref: ref, isInitial: false)
        case .subscribe(let channel, let since):
            subscribe(channel, since: since, ref: ref)
        case .unsubscribe(let channel):
            if endSubscription(channel) { updateMailbox() }
            send(ServerMessage.unsubscribed(channel: channel, ref: ref))
        case .publish(let draft):
            publish(draft, ref: ref)
        case .history(let channel, let after, let limit):
            history(channel, after: after, limit: limit ?? 100, ref: ref)
        case .listen(let endpoint):
            listen(to: endpoint, ref: ref)
        case .relayed(let delivery, let status, let error, let body):
            relayed(delivery: delivery, status: status, error: error, body: body)
        case .presence(let channel):
            presence(channel, ref: ref)
        }
    }

    /// Resolves a credential off the loop, then applies it on the loop.
    func authenticate(_ credential: String, ref: JSONValue?, isInitial: Bool) {
        let authenticator = settings.authenticator
        let loop = eventLoop
        Task {
            let result: Result<Principal, SwitchboardError>
            do throws(SwitchboardError) {
                result = .success(try await authenticator.principal(for: credential))
            } catch {
                result = .failure(error)
            }
            loop.execute {
                guard !self.isTornDown, !self.isClosing else { return }
                switch result {
                case .success(let principal):
                    self.apply(principal, ref: ref, isInitial: isInitial)
                case .failure(let error):
                    if error.code == .unavailable {
                        self.close(.internalError, reason: "authentication unavailable")
                    } else if isInitial || self.principal.isAnonymous {
                        self.close(.unauthorized, reason: error.detail)
                    } else {
                        // A failed refresh leaves the current token in force until it expires.
                        self.sendError(error, ref: ref)
                    }
                }
            }
        }
    }

    private func publish(_ requested: EventDraft, ref: JSONValue?) {
        let draft: EventDraft
        do {
            try engine.configuration.accessPolicy.authorizeClientPublish(principal, to: requested.channel)
            draft = try requested.scoped(to: principal).published(by: .client(user: principal.user))
        } catch {
            return sendError(error, ref: ref)
        }
        guard takePublishToken(ref: ref) else { return }
        let loop = eventLoop
        // Straight to the writer with a callback: no task per publish.
        engine.publisher.publish([draft]) { result in
            loop.execute {
                switch result {
                case .success(let receipts):
                    guard let receipt = receipts.first else {
                        return self.sendError(SwitchboardError(.internalError, "no receipt"), ref: ref)
                    }
                    self.send(
                        ServerMessage.published(
                            id: receipt.id,
                            channel: receipt.channel,
                            offset: receipt.offset,
                            ref: ref
                        )
                    )
                case .failure(let error):
                    self.sendError(error, ref: ref)
                }
            }
        }
    }

    private func history(_ channel: ChannelName, after: Int64, limit: Int, ref: JSONValue?) {
        do {
            try engine.configuration.accessPolicy.authorizeSubscribe(principal, to: channel)
        } catch {
            return sendError(error, ref: ref)
        }
        guard !isHistoryInFlight else {
            return sendError(
                SwitchboardError(
                    .rateLimited,
                    "one history request at a time: wait for the reply",
                    retryAfterSeconds: 1
                ),
                ref: ref
            )
        }
        isHistoryInFlight = true
        let log = engine.log
        let loop = eventLoop
        let pageBytes = engine.configuration.limits.maximumPageBytes
        Task {
            let page = try? await log.read(channel: channel, after: after, limit: limit, maximumBytes: pageBytes)
            loop.execute {
                self.isHistoryInFlight = false
                guard let page else {
                    return self.sendError(SwitchboardError(.unavailable, "the event log is unavailable"), ref: ref)
                }
                self.send(ServerMessage.history(page: page, ref: ref))
            }
        }
    }
}

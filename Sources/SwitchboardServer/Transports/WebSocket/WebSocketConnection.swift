import CompressNIO
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

/// One upgraded WebSocket connection, as a plain NIO channel handler: it reads client commands,
/// answers them, and receives live events from the Hub on its own event loop.
///
/// Server frames are written as ready-made bytes (an event's frame is encoded once by the Hub and the
/// same buffer goes to every subscriber), so no frame encoder sits in the pipeline. A batch of events
/// leaves in one write and one flush. Unsent data is bounded by the namespace's mailbox limits; a
/// connection past them is closed with 4008.
///
/// `@unchecked Sendable`: the Hub needs a `Sendable` reference, but every mutable property is read
/// and written only on `eventLoop` — NIO calls the handler methods there, the Hub calls `deliver` and
/// `flushDeliveries` there, and every async result hops back with `eventLoop.execute` before it
/// touches state.
final class WebSocketConnection: ChannelInboundHandler, HubSubscriber, Heartbeating, @unchecked Sendable {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = ByteBuffer

    /// The protocol a connection speaks.
    enum Dialect: Sendable {
        /// Switchboard's own (PROTOCOL.md), on `/v1/ws`.
        case switchboard
        /// The Pusher protocol for this app, on `/app/{key}` (`WebSocketConnection+Pusher`).
        case pusher(PusherApp)
        /// A Pusher connection that cannot be served (unknown key, unsupported protocol version): it is
        /// told with `pusher:error` and closed with `code`.
        case pusherRefused(code: UInt16, message: String)
    }

    /// What is the connection's own, beside what every connection shares.
    struct Settings: Sendable {
        /// Shared by every connection: the engine, authentication, heartbeat and close timings.
        let transports: TransportSettings
        /// Which protocol the connection speaks.
        let dialect: Dialect
        /// The credential from `?token=` or `Authorization` at upgrade time.
        let initialCredential: String?
        /// permessage-deflate, when negotiated.
        let deflate: PerMessageDeflate?
        /// Set when the upgrade request was refused (a browser origin not allowed): the connection is
        /// accepted and closed at once with this code, so that the browser can see why.
        let refusal: (code: CloseCode, reason: String)?
        let logger: Logger

        var engine: Engine { transports.engine }
        var authenticator: Authenticator { transports.authenticator }
        var heartbeat: TimeAmount { transports.heartbeat }
        /// How long a close waits for the peer to take the close frame before the socket is cut.
        var closeTimeout: TimeAmount { transports.closeTimeout }
        /// Sends the pings of every connection of a loop from one task.
        var heartbeats: HeartbeatSweeper { transports.heartbeats }
    }

    let eventLoop: any EventLoop
    let settings: Settings
    let clientID: String
    var context: ChannelHandlerContext?
    /// The context of `RawBytesWriter`, next to the socket: writes made on it skip NIO's frame
    /// encoder, which the upgrader installs and which cannot be removed.
    var rawWriter: ChannelHandlerContext?
    var principal = Principal.anonymous
    var isReady = false
    /// How the connection ends (see `ConnectionClosing`).
    var closing = ConnectionClosing()
    /// The connection no longer delivers: a close is under way or done.
    var isClosing: Bool { !closing.isOpen }
    /// The connection is gone; late async results must not touch the Hub any more.
    var isTornDown: Bool { closing.state == .closed }
    /// A `history` read is in flight (one at a time, so replies stay bounded).
    var isHistoryInFlight = false
    /// A `presence` listing is in flight (one at a time: on a shared store it is a database read).
    var isPresenceInFlight = false
    /// Gives each subscription a generation, so a late catch-up read of an earlier one is ignored.
    var nextGeneration = 0
    /// Closes the socket if the close frame is not taken by the peer in time.
    var closeTimer: (any Deadline)?
    var commandsBeforeReady: [ByteBuffer] = []
    /// Relays deliveries for `switchboard listen`; detached from the relays when torn down.
    var isRelayListener = false
    var subscriptions: [ChannelName: WebSocketSubscription] = [:]
    var outbound = OutboundAccount()
    /// The strictest limits of the subscribed namespaces (the default namespace's without subscriptions).
    var mailbox = (bytes: Int.max, events: Int.max)
    var fragments: ByteBuffer?
    var fragmentsAreCompressed = false
    /// Made on the first compressed message (a zlib stream costs tens of KiB; idle connections have none).
    var inflater: ZlibDecompressor?
    var lastHeard = NIODeadline.now()
    /// This connection's place in its loop's heartbeat list (-1: not in it).
    var heartbeatSlot = -1
    var awaitingWritability = WritabilityWaitlist()
    /// The client address counted against the per-address limit (nil until admitted).
    var admittedAddress: String?
    /// The user this connection is filed under in the connection registry.
    var registeredUser: String?
    /// Channels this connection is a presence member of.
    var presentIn: Set<ChannelName> = []
    /// Closes the connection with 4001 when the token expires without a fresh one.
    var expiryTimer: Scheduled<Void>?
    /// Commands a second (past it: closed with 4029).
    var commandBucket: TokenBucket
    /// Publishes a second (past it: `rate_limited`).
    var publishBucket: TokenBucket?
    /// Presence joins a second (past it: a presence subscribe gets `rate_limited`).
    var presenceBucket: TokenBucket
    /// The Pusher app this connection speaks for (nil: Switchboard's own protocol).
    var pusherApp: PusherApp? {
        if case .pusher(let app) = settings.dialect { return app }
        return nil
    }
    /// The socket id a Pusher client signs its subscriptions with (`digits.digits`; empty otherwise).
    let pusherSocketID: String
    /// A Pusher connection's channels that answer more than a plain success: the user a presence
    /// channel is held as, and the messages the subscription answers with first (the member list, a
    /// cache miss) until they are sent.
    var pusherChannels: [ChannelName: (user: String?, firstAnswer: [String]?)] = [:]
    /// The ids of this Pusher connection's own client events not yet seen coming back from the Hub:
    /// a client event reaches every subscriber but its sender.
    var pusherOwnEvents: [String] = []

    var engine: Engine { settings.engine }

    init(eventLoop: any EventLoop, settings: Settings) {
        self.eventLoop = eventLoop
        self.settings = settings
        var rng = settings.engine.ambient.randomNumberGenerator
        self.clientID = "cl_" + RandomToken.base62(count: 20, using: &rng)
        if case .switchboard = settings.dialect {
            self.pusherSocketID = ""
        } else {
            self.pusherSocketID =
                "\(UInt32.random(in: 1...UInt32.max, using: &rng)).\(UInt32.random(in: 1...UInt32.max, using: &rng))"
        }
        let defaults = settings.engine.configuration.namespaces.defaultPolicy
        self.mailbox = (defaults.mailboxBytes, defaults.mailboxEvents)
        let limits = settings.engine.configuration.limits
        let now = settings.engine.ambient.monotonicClock()
        self.commandBucket = TokenBucket(
            rate: Double(limits.connectionCommandRate),
            burst: Double(limits.connectionCommandRate),
            now: now
        )
        self.presenceBucket = TokenBucket(
            rate: Double(limits.presenceJoinRate),
            burst: Double(limits.presenceJoinRate * 2),
            now: now
        )
        if limits.connectionPublishRate > 0 {
            self.publishBucket = TokenBucket(
                rate: Double(limits.connectionPublishRate),
                burst: Double(limits.connectionPublishRate),
                now: now
            )
        }
    }

    /// Most commands kept while the initial credential is checked.
    static let maximumCommandsBeforeReady = 64

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.rawWriter = try? context.pipeline.syncOperations.context(handlerType: RawBytesWriter.self)
        engine.metrics.webSocketConnections.increment()
        settings.heartbeats.register(self)
        if let refusal = settings.refusal {
            engine.metrics.refused(by: "origin")
            return close(refusal.code, reason: refusal.reason)
        }
        if case .pusherRefused(let code, let message) = settings.dialect {
            engine.metrics.refused(by: "pusher_app")
            send(PusherMessage.error(message, code: Int(code)))
            return perform(closing.event(.close), rawCode: code, reason: message)
        }
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        do {
            try engine.connections.admit(address: address)
            admittedAddress = address
        } catch {
            engine.metrics.refused(by: "connections_per_address")
            return close(.rateLimited, reason: error.detail)
        }
        guard let credential = settings.initialCredential else {
            becomeReady()
            return
        }
        authenticate(credential, ref: nil, isInitial: true)
    }

    func channelInactive(context: ChannelHandlerContext) {
        tearDown()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        tearDown()
        self.context = nil
        self.rawWriter = nil
    }

    /// The socket is closed: releases everything, including the connection's places in the limits.
    private func tearDown() {
        guard closing.event(.socketClosed) == .release else { return }
        if pusherApp != nil { settings.transports.api.pusherSockets.deregister(pusherSocketID) }
        closeTimer?.cancel()
        closeTimer = nil
        settings.heartbeats.deregister(self)
        if isRelayListener { engine.relays.detach(self) }
        releaseAccess()
        for channel in subscriptions.keys {
            engine.hub.unsubscribe(self, from: channel)
        }
        subscriptions.removeAll()
        engine.metrics.webSocketConnections.decrement()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            close(.restarting, reason: "server restarting")
            return
        }
        if let event = event as? ChannelEvent, event == .inputClosed {
            // The peer is gone (its process died, or it shut down its side without a close frame):
            // close now rather than at the next heartbeat, so that presence sees it leave promptly.
            perform(closing.event(.inputClosed), rawCode: CloseCode.normal.rawValue, reason: "")
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? NIOWebSocketError, case .invalidFrameLength = error {
            close(.frameTooBig, reason: "frame too big")
        } else {
            // 1002 has no `CloseCode` (clients never get it on purpose), but closes like any other.
            perform(closing.event(.close), rawCode: 1002, reason: "protocol error")
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            for channel in awaitingWritability.takeAll() { continueCatchUp(channel) }
        }
        context.fireChannelWritabilityChanged()
    }

    func becomeReady() {
        isReady = true
        if pusherApp != nil {
            settings.transports.api.pusherSockets.register(pusherSocketID, self)
            send(
                PusherMessage.connectionEstablished(
                    socketID: pusherSocketID,
                    activityTimeoutSeconds: Self.pusherActivityTimeout
                )
            )
        } else {
            send(ServerMessage.welcome(client: clientID, heartbeatSeconds: heartbeatSeconds, user: principal.user))
        }
        let queued = commandsBeforeReady
        commandsBeforeReady.removeAll()
        for frame in queued {
            if pusherApp != nil { handlePusherText(frame) } else { handleText(frame) }
        }
    }

    var heartbeatSeconds: Int { Int(settings.heartbeat.nanoseconds / 1_000_000_000) }

    /// Called by the loop's heartbeat every interval: closes a peer not heard from for two intervals,
    /// otherwise pings it.
    func heartbeat(now: NIODeadline, interval: TimeAmount) {
        guard let context, !isClosing else { return }
        if now - lastHeard > interval * 2 {
            // No pong (or anything) for two intervals: the peer is gone.
            context.close(promise: nil)
            return
        }
        writeRaw(WebSocketFrameBytes.frame(.ping, payload: ByteBuffer(), allocator: context.channel.allocator))
        context.flush()
    }

    // MARK: Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        lastHeard = .now()
        guard !isClosing else { return }
        guard commandBucket.take(at: engine.ambient.monotonicClock()) else {
            engine.metrics.refused(by: "connection_command_rate")
            return close(
                .rateLimited,
                reason: "more than \(engine.configuration.limits.connectionCommandRate) frames a second"
            )
        }
        let startsMessage = frame.opcode == .text || frame.opcode == .binary
        guard frame.rsv2 == false, frame.rsv3 == false,
            frame.rsv1 == false || (settings.deflate != nil && startsMessage)
        else {
            close(.policy, reason: "reserved bits set")
            return
        }
        switch frame.opcode {
        case .text where frame.fin:
            guard fragments == nil else { return close(.policy, reason: "new message inside a fragmented one") }
            fragmentsAreCompressed = frame.rsv1
            dispatchText(frame.unmaskedData)
        case .text:
            guard fragments == nil else { return close(.policy, reason: "new message inside a fragmented one") }
            fragmentsAreCompressed = frame.rsv1
            fragments = frame.unmaskedData
        case .continuation:
            guard var buffer = fragments else { return close(.policy, reason: "unexpected continuation frame") }
            var data = frame.unmaskedData
            guard buffer.readableBytes + data.readableBytes <= engine.configuration.limits.maximumRequestBytes else {
                return close(.frameTooBig, reason: "message too big")
            }
            buffer.writeBuffer(&data)
            if frame.fin {
                fragments = nil
                dispatchText(buffer)
            } else {
                fragments = buffer
            }
        case .binary:
            sendError(SwitchboardError(.badRequest, "commands are JSON text frames"), ref: nil)
        case .ping:
            // Pongs count against the same bounds as events: a peer that pings and never reads is a
            // slow consumer too.
            writeAndCheck(
                WebSocketFrameBytes.frame(.pong, payload: frame.unmaskedData, allocator: context.channel.allocator)
            )
        case .pong:
            break
        case .connectionClose:
            var data = frame.unmaskedData
            let code = data.readInteger(as: UInt16.self) ?? 1000
            // Echo a code the peer may send; anything else is answered with a normal close.
            let echoed = (1000...4999).contains(code) && ![1004, 1005, 1006, 1015].contains(code) ? code : 1000
            perform(closing.event(.peerClose), rawCode: echoed, reason: "")
        default:
            close(.policy, reason: "unknown opcode")
        }
    }

    private func dispatchText(_ payload: ByteBuffer) {
        var message = payload
        if fragmentsAreCompressed {
            fragmentsAreCompressed = false
            do {
                let inflater = try self.inflater ?? ZlibDecompressor(algorithm: .deflate, windowSize: 15)
                message = try PerMessageDeflate.inflate(
                    payload,
                    with: inflater,
                    limit: engine.configuration.limits.maximumRequestBytes
                )
                // Without client context takeover nothing is kept between messages: free the stream.
                self.inflater = settings.deflate?.clientNoContextTakeover == true ? nil : inflater
            } catch let error as SwitchboardError {
                return close(error.code == .tooLarge ? .frameTooBig : .policy, reason: error.detail)
            } catch {
                return close(.internalError, reason: "cannot inflate")
            }
        }
        if isReady {
            if pusherApp != nil { handlePusherText(message) } else { handleText(message) }
        } else if commandsBeforeReady.count < Self.maximumCommandsBeforeReady {
            commandsBeforeReady.append(message)
        } else {
            close(.policy, reason: "too many commands before authentication finished")
        }
    }

    // MARK: Writing

    /// Writes bytes without flushing and counts them for flow control.
    func writeRaw(_ buffer: ByteBuffer) {
        outbound.bytesWritten += buffer.readableBytes
        rawWriter?.write(wrapOutboundOut(buffer), promise: nil)
    }

    /// Sends one server message now.
    func send(_ message: String) {
        guard let context, !isClosing else { return }
        writeAndCheck(WebSocketFrameBytes.text(message, allocator: context.channel.allocator))
    }

    /// Writes and flushes `frame`, then checks the bounds: replies and pongs count against them like
    /// events, so a client that asks and never reads is a slow consumer too.
    private func writeAndCheck(_ frame: ByteBuffer) {
        guard let context, !isClosing else { return }
        writeRaw(frame)
        context.flush()
        if !context.channel.isWritable { checkFlowControl(whileCatchingUp: false) }
    }

    func sendError(_ error: SwitchboardError, ref: JSONValue?) {
        if pusherApp != nil {
            send(PusherMessage.error(error.detail, code: Self.pusherErrorCode(error)))
        } else {
            send(ServerMessage.error(error, ref: ref))
        }
    }

    /// Ends the connection with `code`: stops all deliveries, sends the close frame, and closes the
    /// socket once it is written, or at the close deadline.
    func close(_ code: CloseCode, reason: String) {
        let rawCode = pusherApp == nil ? code.rawValue : Self.pusherCloseCode(code)
        perform(closing.event(.close), rawCode: rawCode, reason: reason)
    }

    /// Executes what `closing` decided.
    func perform(_ action: ConnectionClosing.Action, rawCode: UInt16, reason: String) {
        guard let context else { return }
        switch action {
        case .none, .release:
            return
        case .closeSocket:
            closeTimer?.cancel()
            closeTimer = nil
            context.close(promise: nil)
        case .sayGoodbye:
            for channel in subscriptions.keys { engine.hub.unsubscribe(self, from: channel) }
            subscriptions.removeAll()
            _ = awaitingWritability.takeAll()
            leaveAllPresence()
            let frame = WebSocketFrameBytes.close(code: rawCode, reason: reason, allocator: context.channel.allocator)
            outbound.bytesWritten += frame.readableBytes
            (rawWriter ?? context).writeAndFlush(wrapOutboundOut(frame)).assumeIsolated().whenComplete { _ in
                self.perform(self.closing.event(.goodbyeWritten), rawCode: rawCode, reason: reason)
            }
            // A peer that never reads would hold the close frame forever: cut it off at the deadline.
            closeTimer = engine.ambient.deadline(.close, in: settings.closeTimeout, on: eventLoop) {
                self.closeTimer = nil
                self.perform(self.closing.event(.deadline), rawCode: rawCode, reason: reason)
            }
        }
    }
}

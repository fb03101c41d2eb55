import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import Prometheus
import SwitchboardCore
import SwitchboardEngine
import SwitchboardStore

/// Serves `GET /v1/sse` as a plain NIO handler right after the request decoder, in front of the
/// upgrade handler and the HTTP responder: it takes the request, authorizes it, recovers missed events
/// from the log, then streams live events from the Hub. Other requests pass through untouched. A
/// connection whose request it takes serves nothing else (the stream, or a problem, ends it).
///
/// Recovery: each channel of the stream follows `ChannelCatchUp`, as WebSocket subscriptions do: the
/// stream registers with the Hub first, reads missed events in pages bounded by count and bytes, reads
/// the next page only once the socket is writable, and turns live at the head. Only a stream that
/// falls behind while live (its mailbox overflowing) ends, and the browser's `EventSource` reconnects
/// with `Last-Event-ID`, which resumes exactly where it stopped.
///
/// `@unchecked Sendable`: all mutable state is touched only on `eventLoop` (NIO and the Hub call in
/// there; async results hop back with `eventLoop.execute`).
final class ServerSentEventsHandler: ChannelInboundHandler, RemovableChannelHandler, HubSubscriber,
    RegisteredConnection, Heartbeating, @unchecked Sendable
{
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case passthrough
        case readingRequest(HTTPRequestHead)
        case starting
        case streaming
        case finished
    }

    private let transports: TransportSettings
    private let logger: Logger
    private var state = State.passthrough
    /// How the stream ends (see `ConnectionClosing`).
    private var closing = ConnectionClosing()
    /// Cuts the socket when the goodbye is not taken in time.
    private var closeTimer: (any Deadline)?
    private var context: ChannelHandlerContext?
    let eventLoop: any EventLoop
    private var cursor = CursorSet([])
    private var channels: [ChannelName] = []
    /// Each channel's way from its cursor to live.
    private var catchUps: [ChannelName: ChannelCatchUp] = [:]
    /// Channels whose next catch-up page waits for the socket to become writable.
    private var awaitingWritability = WritabilityWaitlist()
    private var unflushedEvents = 0
    private var outbound = OutboundAccount()
    /// Writes next to the socket, past the HTTP encoder (see `RawBytesWriter`); set once streaming.
    private var rawWriter: ChannelHandlerContext?
    /// This stream's place in its loop's ping list (-1: not in it).
    var heartbeatSlot = -1
    private var policy = NamespacePolicy()
    /// CORS headers for the request's origin (empty when it is not a cross-origin browser request).
    private var corsHeaders: [(String, String)] = []
    /// Counted against the per-address and per-user limits while the stream lives.
    private var admittedAddress: String?
    private var registeredUser: String?
    /// Ends the stream when the client token expires.
    private var expiryTimer: Scheduled<Void>?
    /// Who the stream serves, once its credentials were checked.
    private var principal: Principal?
    /// Told once, when a request is taken: the connection is an SSE stream from then on.
    private var taken: ((ChannelHandlerContext) -> Void)?

    private var engine: Engine { transports.engine }

    init(
        eventLoop: any EventLoop,
        transports: TransportSettings,
        logger: Logger,
        taken: @escaping (ChannelHandlerContext) -> Void
    ) {
        self.eventLoop = eventLoop
        self.transports = transports
        self.logger = logger
        self.taken = taken
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        socketClosed()
        self.context = nil
        self.rawWriter = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        socketClosed()
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            for channel in awaitingWritability.takeAll() { continueCatchUp(channel) }
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, case .streaming = state {
            finish()
            return
        }
        if let event = event as? ChannelEvent, event == .inputClosed, case .streaming = state {
            // The client went away: end the stream now rather than at the next failed write.
            stop()
            perform(closing.event(.inputClosed))
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch state {
        case .passthrough:
            if case .head(let head) = part, head.method == .GET, URI(head.uri).path == "/v1/sse" {
                state = .readingRequest(head)
                taken?(context)
                taken = nil
            } else {
                context.fireChannelRead(data)
            }
        case .readingRequest(let head):
            if case .end = part {
                state = .starting
                start(head)
            }
        case .starting, .streaming, .finished:
            break
        }
    }

    // MARK: Starting

    private func start(_ head: HTTPRequestHead) {
        let uri = URI(head.uri)
        let query = uri.queryParameters
        corsHeaders = transports.origins.corsHeaders(
            origin: head.headers.first(name: "Origin"),
            host: head.headers.first(name: "Host")
        )
        do {
            for name in query.getAll("channel") {
                let channel = try ChannelName(String(name))
                if !channels.contains(channel) { channels.append(channel) }
            }
            guard !channels.isEmpty else {
                throw SwitchboardError(.badRequest, "name at least one channel: /v1/sse?channel=…")
            }
            let maximum = engine.configuration.limits.maximumSubscriptionsPerConnection
            guard channels.count <= maximum else {
                engine.metrics.refused(by: "subscriptions")
                throw SwitchboardError(.badRequest, "at most \(maximum) channels per stream")
            }
            let resume = head.headers.first(name: "Last-Event-ID") ?? query["cursor"].map(String.init)
            if let resume, !resume.isEmpty { cursor = try CursorSet(parsing: resume) }
        } catch let error as SwitchboardError {
            return respondWithProblem(error)
        } catch {
            return respondWithProblem(SwitchboardError(.badRequest, "bad request"))
        }
        let credential =
            query["token"].map(String.init) ?? APIKeyAuthenticator.bearer(head.headers.first(name: "Authorization"))
        let authenticator = transports.authenticator
        let access = engine.configuration.accessPolicy
        let channels = self.channels
        let loop = eventLoop
        Task {
            let result: Result<Principal, SwitchboardError>
            do throws(SwitchboardError) {
                let principal = try await authenticator.principal(for: credential)
                for channel in channels { try access.authorizeSubscribe(principal, to: channel) }
                result = .success(principal)
            } catch {
                result = .failure(error)
            }
            loop.execute {
                switch result {
                case .success(let principal): self.register(principal)
                case .failure(let error): self.respondWithProblem(error)
                }
            }
        }
    }

    private func register(_ principal: Principal) {
        // The connection may have gone while credentials were checked: then nothing registers.
        guard case .starting = state, let context else { return }
        do {
            let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
            try engine.connections.admit(address: address)
            admittedAddress = address
        } catch {
            engine.metrics.refused(by: "connections_per_address")
            return respondWithProblem(error)
        }
        if let user = principal.user {
            do {
                try engine.connections.attach(self, user: user)
                registeredUser = user
            } catch {
                engine.metrics.refused(by: "connections_per_user")
                return respondWithProblem(error)
            }
        }
        self.principal = principal
        scheduleExpiry()
        // The strictest limits of the stream's namespaces.
        let policies = channels.map { engine.configuration.namespaces.policy(for: $0) }
        policy.mailboxBytes = policies.map(\.mailboxBytes).min() ?? policy.mailboxBytes
        policy.mailboxEvents = policies.map(\.mailboxEvents).min() ?? policy.mailboxEvents
        // Register before reading heads and missed events, so nothing committed in between is lost.
        for channel in channels {
            catchUps[channel] = ChannelCatchUp(after: cursor.offset(for: channel) ?? 0)
            engine.hub.subscribe(self, to: channel)
        }
        readLiveStarts()
    }

    /// Ends the stream when the token expires.
    private func scheduleExpiry() {
        guard let expires = principal?.expires, let context else { return }
        guard let delay = TokenExpiryWait.delay(until: expires, now: engine.ambient.wallClock()) else {
            return end(with: SwitchboardError(.unauthorized, "the token has expired"))
        }
        expiryTimer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
            self.expiryTimer = nil
            self.scheduleExpiry()
        }
    }

    /// Sends the response head once the starting offsets are known, so that the stream is live the
    /// moment the client sees it.
    private func writeResponseHead() {
        guard let context else { return }
        engine.metrics.serverSentEventStreams.increment()
        if !transports.serverSentEventsNoDelay {
            // As on WebSocket connections (decision 0009): a lone event still leaves at once, and events
            // that follow within the round trip share a segment.
            try? context.channel.syncOptions?.setOption(.tcpOption(.tcp_nodelay), value: 0)
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/event-stream; charset=utf-8")
        headers.add(name: "Cache-Control", value: "no-cache")
        headers.add(name: "X-Accel-Buffering", value: "no")
        for (name, value) in corsHeaders { headers.add(name: name, value: value) }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))),
            promise: nil
        )
        // The head went through the HTTP encoder, which now frames the body as chunks; events of a
        // single-channel stream are written as ready-made chunks beside it.
        rawWriter = try? RawBytesWriter.install(in: context.pipeline.syncOperations)
        var comment = context.channel.allocator.buffer(capacity: 16)
        comment.writeStaticString(": connected\n\n")
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(comment))), promise: nil)
        transports.serverSentEventPings.register(self)
    }

    /// Reads the head of each channel that starts live (no cursor), off the loop: every event's id
    /// names each channel's offset, so the stream begins once these are known.
    private func readLiveStarts() {
        let log = engine.log
        let loop = eventLoop
        let liveStarts = channels.filter { cursor.offset(for: $0) == nil }
        let hub = engine.hub
        let channels = channels
        Task {
            // Registered: once the hub is fed each channel's new events, the log has the rest.
            for channel in channels { await hub.ready(for: channel) }
            var heads: [(ChannelName, Int64)] = []
            var failed = false
            do {
                for channel in liveStarts { heads.append((channel, try await log.head(of: channel))) }
            } catch {
                failed = true
            }
            let read = (heads: heads, failed: failed)
            loop.execute { self.beginStreaming(heads: read.heads, failed: read.failed) }
        }
    }

    private func beginStreaming(heads: [(ChannelName, Int64)], failed: Bool) {
        guard case .starting = state else { return }
        guard !failed else {
            return respondWithProblem(SwitchboardError(.unavailable, "the event log is unavailable"))
        }
        for (channel, head) in heads {
            cursor.set(channel, to: head)
            _ = catchUps[channel]?.startLive(at: head)
        }
        state = .streaming
        writeResponseHead()
        // Channels already live need no read: their catch-up declines to start one.
        for channel in channels { continueCatchUp(channel) }
    }

    /// Reads the next page of what `channel` missed (off the loop) and writes it on the loop.
    private func continueCatchUp(_ channel: ChannelName) {
        guard case .streaming = state, var catchUp = catchUps[channel], catchUp.startRead() else { return }
        catchUps[channel] = catchUp
        let log = engine.log
        let loop = eventLoop
        let after = catchUp.delivered
        let limits = engine.configuration.limits
        let mailboxBytes = policy.mailboxBytes
        Task {
            let page = try? await ChannelCatchUp.readPage(
                of: channel,
                after: after,
                from: log,
                limits: limits,
                mailboxBytes: mailboxBytes
            )
            loop.execute { self.applyPage(page, of: channel) }
        }
    }

    private func applyPage(_ page: HistoryPage?, of channel: ChannelName) {
        guard case .streaming = state, var catchUp = catchUps[channel] else { return }
        guard let page else {
            catchUp.readFailed()
            catchUps[channel] = catchUp
            return end(with: SwitchboardError(.unavailable, "the event log is unavailable"))
        }
        let outcome = catchUp.pageRead(page)
        catchUps[channel] = catchUp
        if outcome.isTruncated {
            // Older than retention or beyond the head: continue from the earliest retained event.
            cursor.set(channel, to: (outcome.events.first?.offset ?? catchUp.delivered + 1) - 1)
            writeControl("{\"op\":\"truncated\",\"channel\":\"\(channel)\"}")
        }
        let allocator = context?.channel.allocator ?? ByteBufferAllocator()
        for event in outcome.events {
            write(EncodedEvent(event, allocator: allocator, deflater: engine.hub.deflater))
        }
        engine.metrics.deliveredServerSentEvents.increment(by: Int64(unflushedEvents))
        // Catch-up is paced by writability, not ended by the bound: flush and measure only.
        unflushedEvents = 0
        context?.flush()
        outbound.closeBatch()
        guard outcome.readsMore else { return }
        if context?.channel.isWritable ?? false {
            continueCatchUp(channel)
        } else {
            awaitingWritability.wait(channel)
        }
    }

    // MARK: Live

    var transport: DeliveryTransport { .serverSentEvents }

    func deliver(_ batch: EncodedBatch, of channel: ChannelName) -> Int {
        guard case .streaming = state else {
            // Before the stream begins, live events only tell each catch-up how far the log goes.
            for encoded in batch.events {
                _ = catchUps[channel]?.live(offset: encoded.offset, batchEnd: batch.lastOffset)
            }
            return 0
        }
        if channels.count == 1, let rawWriter,
            catchUps[channel]?.takeInStep(first: batch.firstOffset, last: batch.lastOffset) == true
        {
            // In step: the whole batch as one chunk, the bytes every such stream shares, in one write.
            cursor.set(channel, to: batch.lastOffset)
            outbound.bytesWritten += batch.joinedServerSentChunk.readableBytes
            rawWriter.write(NIOAny(batch.joinedServerSentChunk), promise: nil)
            unflushedEvents += batch.events.count
            outbound.eventsInBatch += batch.events.count
            return batch.events.count
        }
        var written = 0
        for encoded in batch.events {
            switch catchUps[channel]?.live(offset: encoded.offset, batchEnd: batch.lastOffset) {
            case .write:
                write(encoded)
                written += 1
            case .readLog:
                continueCatchUp(channel)
                return written
            case .skip, nil:
                continue
            }
        }
        return written
    }

    private func write(_ encoded: EncodedEvent) {
        guard let context else { return }
        cursor.set(encoded.event.channel, to: encoded.offset)
        if channels.count == 1, let rawWriter {
            // One channel: the id is the event's own cursor, so the chunk encoded once fits every stream.
            outbound.bytesWritten += encoded.serverSentChunk.readableBytes
            rawWriter.write(NIOAny(encoded.serverSentChunk), promise: nil)
            unflushedEvents += 1
            outbound.eventsInBatch += 1
            return
        }
        var idLine = context.channel.allocator.buffer(capacity: 64)
        idLine.writeStaticString("id: ")
        idLine.writeString(cursor.description)
        idLine.writeStaticString("\n")
        // Chunked framing adds a few bytes per write; the account only needs to be close.
        outbound.bytesWritten += idLine.readableBytes + encoded.serverSentData.readableBytes
        context.write(wrapOutboundOut(.body(.byteBuffer(idLine))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(encoded.serverSentData))), promise: nil)
        unflushedEvents += 1
        outbound.eventsInBatch += 1
    }

    func flushDeliveries() {
        guard unflushedEvents > 0, let context else { return }
        unflushedEvents = 0
        context.flush()
        outbound.closeBatch()
        guard
            !context.channel.isWritable || policy.mailboxBytes < 64 * 1024
                || outbound.shouldMeasure(eventLimit: policy.mailboxEvents)
        else { return }
        let buffered = (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
        let pendingEvents = outbound.confirm(buffered: buffered)
        if buffered > policy.mailboxBytes || pendingEvents > policy.mailboxEvents {
            engine.metrics.slowConsumersClosed.increment()
            finish()
        }
    }

    /// Called by the loop's ping task every `sse.ping_seconds`.
    func heartbeat(now: NIODeadline, interval: TimeAmount) {
        guard case .streaming = state, let context else { return }
        var ping = context.channel.allocator.buffer(capacity: 8)
        ping.writeStaticString(": ping\n\n")
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ping))), promise: nil)
    }

    private func writeControl(_ json: String) {
        guard let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: json.utf8.count + 32)
        buffer.writeString("event: switchboard\ndata: \(json)\n\n")
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
    }

    // MARK: Ending

    private func respondWithProblem(_ error: SwitchboardError) {
        guard let context else { return }
        stop()
        state = .finished
        let body = Problem.json(for: error)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: Problem.contentType)
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "Connection", value: "close")
        if let retryAfter = error.retryAfterSeconds { headers.add(name: "Retry-After", value: String(retryAfter)) }
        for (name, value) in corsHeaders { headers.add(name: name, value: value) }
        let status = HTTPResponseStatus(statusCode: error.code.httpStatus)
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
            promise: nil
        )
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
        sayGoodbye()
    }

    /// Ends a live stream with an `error` control message, so the client knows why (an expired token, an
    /// administrator's disconnect).
    private func end(with error: SwitchboardError) {
        // Before the response head, the reason is the answer itself.
        if case .starting = state { return respondWithProblem(error) }
        guard case .streaming = state else { return finish() }
        writeControl(ServerMessage.error(error, ref: nil))
        finish()
    }

    /// Ends the stream from any thread (an administrator's disconnect).
    func disconnect(_ code: CloseCode, reason: String) {
        eventLoop.execute { self.end(with: SwitchboardError(.forbidden, reason)) }
    }

    /// Ends the stream (terminating chunk) and closes the connection.
    private func finish() {
        guard let context else { return }
        if case .starting = state {
            // No response head yet: answer with a problem, so the client retries with its cursor.
            return respondWithProblem(
                SwitchboardError(.unavailable, "the stream fell behind while recovering; reconnect with your cursor")
            )
        }
        guard case .streaming = state else { return }
        stop()
        sayGoodbye()
    }

    /// Writes the end of the response and closes once it is written, or at the close deadline: a
    /// client that stops reading is cut off, never waited on.
    private func sayGoodbye() {
        guard let context, closing.event(.close) == .sayGoodbye else { return }
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            self.perform(self.closing.event(.goodbyeWritten))
        }
        closeTimer = engine.ambient.deadline(.close, in: transports.closeTimeout, on: eventLoop) {
            self.closeTimer = nil
            self.perform(self.closing.event(.deadline))
        }
    }

    /// Executes what `closing` decided after the goodbye.
    private func perform(_ action: ConnectionClosing.Action) {
        switch action {
        case .closeSocket:
            closeTimer?.cancel()
            closeTimer = nil
            context?.close(promise: nil)
        case .release:
            closeTimer?.cancel()
            closeTimer = nil
            // Only now, with the socket closed, does the stream stop counting against the limits.
            engine.connections.leave(self, user: registeredUser, address: admittedAddress)
            registeredUser = nil
            admittedAddress = nil
        case .none, .sayGoodbye:
            break
        }
    }

    /// The socket is closed, whichever way.
    private func socketClosed() {
        stop()
        perform(closing.event(.socketClosed))
    }

    /// Stops deliveries, pings and the expiry timer.
    private func stop() {
        transports.serverSentEventPings.deregister(self)
        expiryTimer?.cancel()
        expiryTimer = nil
        switch state {
        case .streaming, .starting:
            for channel in channels { engine.hub.unsubscribe(self, from: channel) }
            if case .streaming = state { engine.metrics.serverSentEventStreams.decrement() }
        default:
            break
        }
        state = .finished
    }
}

import HTTPTypes
import NIOCore
import NIOHTTP1
import SwitchboardCore
import SwitchboardEngine
import SwitchboardStore

/// Serves the plain single publish, `POST /v1/channels/{channel}/events`, as a NIO handler in front of
/// the HTTP responder: the body is read on the event loop, the draft built and checked with the same
/// `APIContext` calls the router's handler uses, the append handed to the group commit with a callback,
/// and the answer written from the event loop. No task, no router pass, no request and response
/// conversions per publish.
///
/// It takes only what it can answer exactly as the router would (`HTTPPublishRoute`): anything else
/// (another route, a browser's cross-origin request, `Expect: 100-continue`, a chunked or oversized
/// body, an API key not looked up in the last few seconds) passes through to the router untouched, and
/// so does a request that arrives while one the router is answering is not finished, so that answers
/// keep the order of their requests. Parts that arrive while a publish is committing wait here, bounded
/// in bytes, and are taken up once its answer is written.
///
/// `@unchecked Sendable`: all mutable state is touched only on the channel's event loop; the commit's
/// callback hops back there with `eventLoop.execute`.
final class HTTPPublishHandler: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Between requests.
        case idle
        /// A request the router answers: its parts pass through up to its end.
        case passingThrough
        /// A publish taken here, its body being read.
        case reading(HTTPPublishRoute.Request, Principal, body: ByteBuffer)
        /// A publish taken here, waiting for its commit; then its answer is written.
        case committing
    }

    private let api: APIContext
    private let serverName: String
    private var state = State.idle
    private var context: ChannelHandlerContext?
    /// Requests passed to the router whose answer has not been written yet.
    private var routerAnswersOwed = 0
    /// Parts that arrived while a publish was committing, and their bytes.
    private var waiting: [HTTPServerRequestPart] = []
    private var waitingBytes = 0
    /// A graceful shutdown asked for while a publish was in flight: it is passed on after the answer.
    private var quiesceHeld = false
    private var date = HTTPDate()

    /// How many bytes of later requests may wait while a publish commits (a client pipelining requests).
    private var maximumWaitingBytes: Int { api.limits.maximumRequestBytes + 16_384 }

    init(api: APIContext, serverName: String) {
        self.api = api
        self.serverName = serverName
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .committing = state {
            waiting.append(part)
            waitingBytes += Self.bytes(of: part)
            if waitingBytes > maximumWaitingBytes { context.close(promise: nil) }
            return
        }
        receive(part, context: context)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), routerAnswersOwed > 0 { routerAnswersOwed -= 1 }
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            switch state {
            case .reading, .committing:
                quiesceHeld = true
                return
            case .idle, .passingThrough:
                break
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: Requests

    private func receive(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch (state, part) {
        case (.idle, .head(let head)):
            if routerAnswersOwed == 0,
                let request = HTTPPublishRoute.request(head, maximumBodyBytes: api.limits.maximumRequestBytes),
                let principal = api.knownPrincipal(authorization: head.headers.first(name: "Authorization"))
            {
                // Grown as bytes arrive, not reserved for what the head claims: a head that announces
                // megabytes and sends nothing holds nothing.
                let body = context.channel.allocator.buffer(capacity: min(request.contentLength, 16_384))
                state = .reading(request, principal, body: body)
            } else {
                routerAnswersOwed += 1
                state = .passingThrough
                context.fireChannelRead(wrapInboundOut(part))
            }
        case (.passingThrough, .end):
            state = .idle
            context.fireChannelRead(wrapInboundOut(part))
        case (.idle, _), (.passingThrough, _):
            context.fireChannelRead(wrapInboundOut(part))
        case (.reading(let request, let principal, var body), .body(var chunk)):
            state = .idle  // no copy of `body` while it grows
            body.writeBuffer(&chunk)
            state = .reading(request, principal, body: body)
        case (.reading(let request, let principal, let body), .end):
            commit(request, by: principal, body: body, context: context)
        case (.reading, .head), (.committing, _):
            // The decoder never sends a head before the end of the request it follows, and parts that
            // arrive while committing wait in `channelRead`: should either happen, the connection ends.
            context.close(promise: nil)
        }
    }

    private func commit(
        _ request: HTTPPublishRoute.Request,
        by principal: Principal,
        body: ByteBuffer,
        context: ChannelHandlerContext
    ) {
        state = .committing
        let draft: EventDraft
        do throws(SwitchboardError) {
            draft = try api.publishDraft(
                channelSegment: request.channelSegment,
                body: body,
                idempotencyKey: request.idempotencyKey,
                by: principal
            )
        } catch {
            return answer(request, with: .failure(error))
        }
        let loop = context.eventLoop
        api.engine.publisher.publish([draft]) { result in
            loop.execute { self.answer(request, with: result) }
        }
    }

    private func answer(_ request: HTTPPublishRoute.Request, with result: Result<[AppendReceipt], SwitchboardError>) {
        guard let context else { return }
        let closes = !request.keepAlive || quiesceHeld
        var headers = HTTPHeaders()
        let status: Int
        let body: String
        do {
            let answer = try APIContext.publishAnswer(try result.get())
            status = answer.status
            body = answer.json
            if answer.replayed { headers.add(name: "Idempotent-Replayed", value: "true") }
            headers.add(name: "Content-Type", value: "application/json")
        } catch {
            status = error.code.httpStatus
            body = Problem.json(for: error)
            headers.add(name: "Content-Type", value: Problem.contentType)
            if let retryAfter = error.retryAfterSeconds { headers.add(name: "Retry-After", value: String(retryAfter)) }
        }
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        let now = api.engine.ambient.wallClock().millisecondsSinceEpoch
        headers.add(name: "Date", value: date.header(atMillisecondsSinceEpoch: now))
        headers.add(name: "Server", value: serverName)
        if closes { headers.add(name: "Connection", value: "close") }
        // The reason phrase as the router writes it: HTTPTypes', not NIO's table.
        let phrase = HTTPResponse.Status(code: status).reasonPhrase
        let head = HTTPResponseHead(
            version: .http1_1,
            status: HTTPResponseStatus(statusCode: status, reasonPhrase: phrase),
            headers: headers
        )
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
        buffer.writeString(body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        if closes {
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
            return
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        state = .idle
        takeUpWaiting(context: context)
    }

    /// Handles the parts that arrived while a publish was committing, up to the next publish taken here.
    /// Ends with a read-complete when any was taken, as the handlers after this one (the router's
    /// channel among them) hand on what they read only then.
    private func takeUpWaiting(context: ChannelHandlerContext) {
        guard !waiting.isEmpty else { return }
        while !waiting.isEmpty {
            if case .committing = state { break }
            let part = waiting.removeFirst()
            waitingBytes -= Self.bytes(of: part)
            receive(part, context: context)
        }
        context.fireChannelReadComplete()
    }

    private static func bytes(of part: HTTPServerRequestPart) -> Int {
        switch part {
        case .head: 1024
        case .body(let buffer): buffer.readableBytes
        case .end: 0
        }
    }
}

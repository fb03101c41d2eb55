import NIOCore
import NIOHTTP1
import SwitchboardEngine

/// Executes `RequestHeadWait` on a plain HTTP connection: sits right after the HTTP request decoder,
/// sees request heads and ends arrive and responses end, keeps the per-address count of waiting
/// connections and the deadline of the current wait (a head, or the rest of a request: its body).
/// Removed when the connection upgrades to a WebSocket, which has its own heartbeat from then on, and
/// when an SSE stream takes the connection.
///
/// One timer serves many waits: a keep-alive connection answers request after request, and
/// cancelling and setting a timer for each would cost every request. The timer stays armed across
/// requests; when it fires it closes the connection only if the current wait is past its end, and
/// otherwise sets itself again for what is left of the wait (or not at all while a request is served).
final class RequestHeadDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    struct Settings: Sendable {
        let requestHead: TimeAmount
        let idle: TimeAmount
        /// For the rest of a request (its body) once its head arrived.
        let requestBody: TimeAmount
        let waiting: WaitingConnections
        /// The clock and the deadlines.
        let ambient: Ambient
    }

    private let settings: Settings
    private var wait = RequestHeadWait()
    /// The armed timer, if any, and when it fires.
    private var timer: (any Deadline)?
    private var timerEnds: ContinuousClock.Instant?
    /// When the current wait ends; nil while a request is served.
    private var waitEnds: ContinuousClock.Instant?
    private var address = "unknown"
    private var isCounted = false

    init(settings: Settings) {
        self.settings = settings
    }

    func handlerAdded(context: ChannelHandlerContext) {
        address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        if context.channel.isActive { perform(wait.event(.opened), context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        perform(wait.event(.opened), context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        connectionEnded(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        connectionEnded(context: context)
        context.fireChannelInactive()
    }

    /// The connection closed or left HTTP: no wait and no timer any more.
    private func connectionEnded(context: ChannelHandlerContext) {
        perform(wait.event(.closed), context: context)
        timer?.cancel()
        timer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: perform(wait.event(.headReceived), context: context)
        case .end: perform(wait.event(.requestReceived), context: context)
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else { return context.write(data, promise: promise) }
        let written = promise ?? context.eventLoop.makePromise()
        context.write(data, promise: written)
        // The next request's wait starts once this response is written, not while it is queued: a
        // client reading a large response slowly is not idle.
        written.futureResult.assumeIsolated().whenSuccess {
            self.perform(self.wait.event(.responseEnded), context: context)
        }
    }

    private func perform(_ action: RequestHeadWait.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            return
        case .startWaiting(let kind):
            guard settings.waiting.admit(address) else {
                _ = wait.event(.closed)
                context.close(promise: nil)
                return
            }
            isCounted = true
            wait(for: kind == .requestHead ? settings.requestHead : settings.idle, context: context)
        case .awaitRequestBody:
            stopWaiting()
            wait(for: settings.requestBody, context: context)
        case .stopWaiting:
            stopWaiting()
        case .closeConnection:
            stopWaiting()
            context.close(promise: nil)
        }
    }

    /// Starts a wait of `delay`: the armed timer serves it unless it would fire after the wait ends.
    private func wait(for delay: TimeAmount, context: ChannelHandlerContext) {
        let ends = settings.ambient.monotonicClock() + .nanoseconds(delay.nanoseconds)
        waitEnds = ends
        if let timerEnds, timerEnds <= ends, timer != nil { return }
        timer?.cancel()
        arm(in: delay, context: context)
    }

    private func arm(in delay: TimeAmount, context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timerEnds = settings.ambient.monotonicClock() + .nanoseconds(delay.nanoseconds)
        timer = settings.ambient.deadline(.requestHead, in: delay, on: context.eventLoop) {
            let (handler, context) = bound.value
            handler.timerFired(context: context)
        }
    }

    private func timerFired(context: ChannelHandlerContext) {
        timer = nil
        timerEnds = nil
        guard let waitEnds else { return }
        let left = settings.ambient.monotonicClock().duration(to: waitEnds)
        guard left > .zero else { return perform(wait.event(.deadlinePassed), context: context) }
        let (seconds, attoseconds) = left.components
        arm(in: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000), context: context)
    }

    private func stopWaiting() {
        waitEnds = nil
        if isCounted {
            isCounted = false
            settings.waiting.release(address)
        }
    }
}

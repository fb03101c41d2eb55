import NIOCore
import NIOHTTP1

/// Executes `RequestHeadWait` on a plain HTTP connection: sits right after the HTTP request decoder,
/// sees request heads arrive and responses end, arms the deadlines and keeps the per-address count of
/// waiting connections. Removed when the connection upgrades to a WebSocket, which has its own
/// heartbeat from then on.
final class RequestHeadDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    struct Settings: Sendable {
        let requestHead: TimeAmount
        let idle: TimeAmount
        let waiting: WaitingConnections
    }

    private let settings: Settings
    private var wait = RequestHeadWait()
    private var deadline: Scheduled<Void>?
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
        perform(wait.event(.closed), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        perform(wait.event(.closed), context: context)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) { perform(wait.event(.headReceived), context: context) }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else { return context.write(data, promise: promise) }
        let written = promise ?? context.eventLoop.makePromise()
        context.write(data, promise: written)
        // The next request's wait starts once this response is written, not while it is queued.
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
            let delay = kind == .requestHead ? settings.requestHead : settings.idle
            deadline = context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
                self.deadline = nil
                self.perform(self.wait.event(.deadlinePassed), context: context)
            }
        case .stopWaiting:
            stopWaiting()
        case .closeConnection:
            stopWaiting()
            context.close(promise: nil)
        }
    }

    private func stopWaiting() {
        deadline?.cancel()
        deadline = nil
        if isCounted {
            isCounted = false
            settings.waiting.release(address)
        }
    }
}

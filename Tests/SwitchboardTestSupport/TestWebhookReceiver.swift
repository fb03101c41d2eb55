import Foundation
import NIOConcurrencyHelpers
public import NIOCore
import NIOHTTP1
import NIOPosix
import SwitchboardCore

/// A webhook receiver on a real socket for end-to-end tests: every request is recorded (in arrival
/// order) and answered by a script, so a test can make it fail, throttle or succeed on cue.
public final class TestWebhookReceiver: Sendable {
    /// One request as received.
    public struct Received: Sendable {
        /// The request path.
        public let path: String
        /// Headers, names lower-cased.
        public let headers: [String: String]
        /// The raw body.
        public let body: [UInt8]
        /// When it arrived.
        public let arrived: ContinuousClock.Instant
        /// 1 for the first request to this receiver, 2 for the next, …
        public let number: Int

        /// The body as text.
        public var text: String { String(decoding: body, as: UTF8.self) }

        /// Whether its Standard Webhooks signature verifies with the `whsec_…` secret, now.
        public func isSigned(with secret: String) throws -> Bool {
            let key = try WebhookSecret(secret)
            let result = WebhookSignature.verify(
                id: headers["webhook-id"] ?? "",
                timestamp: headers["webhook-timestamp"] ?? "",
                signatures: headers["webhook-signature"] ?? "",
                body: body,
                hmacKeys: [key.key],
                now: Int64(Date().timeIntervalSince1970)
            )
            return (try? result.get()) != nil
        }
    }

    /// The answer to one request.
    public struct Reply: Sendable {
        /// HTTP status.
        public var status: Int
        /// Extra response headers.
        public var headers: [(String, String)]
        /// Response body.
        public var body: String

        /// Makes a reply.
        public init(status: Int, headers: [(String, String)] = [], body: String = "") {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    private let channel: any Channel
    private let received = NIOLockedValueBox<[Received]>([])
    private let inbox = TestInbox<Received>()

    /// The URL to register as an endpoint (path `/hooks`).
    public var url: String { "http://127.0.0.1:\(channel.localAddress?.port ?? 0)/hooks" }

    private init(channel: any Channel) {
        self.channel = channel
    }

    /// Starts a receiver answering each request with `script(request)`.
    public static func start(
        _ script: @escaping @Sendable (Received) -> Reply = { _ in Reply(status: 200) }
    ) async throws -> TestWebhookReceiver {
        let box = NIOLockedValueBox<TestWebhookReceiver?>(nil)
        let counter = NIOLockedValueBox(0)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(
                        Handler { request in
                            let number = counter.withLockedValue { value in
                                value += 1
                                return value
                            }
                            let item = Received(
                                path: request.path,
                                headers: request.headers,
                                body: request.body,
                                arrived: .now,
                                number: number
                            )
                            box.withLockedValue { $0 }?.record(item)
                            let reply = script(item)
                            TestActivity.changed()
                            return reply
                        }
                    )
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let receiver = TestWebhookReceiver(channel: channel)
        box.withLockedValue { $0 = receiver }
        return receiver
    }

    private func record(_ item: Received) {
        received.withLockedValue { $0.append(item) }
        inbox.push(item)
    }

    /// The next request not yet taken, waiting up to `timeout`.
    public func next(timeout: TimeAmount = .seconds(20)) async throws -> Received {
        guard let item = await inbox.next(timeout: timeout) else {
            throw TestServerError("no webhook request arrived within \(timeout)")
        }
        return item
    }

    /// Every request so far.
    public var all: [Received] { received.withLockedValue { $0 } }

    /// Stops listening.
    public func stop() async {
        try? await channel.close()
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        // Safe: a handler instance lives on its channel's event loop and is only touched there.
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        struct Request {
            var path = ""
            var headers: [String: String] = [:]
            var body: [UInt8] = []
        }

        private let answer: (Request) -> Reply
        private var current = Request()

        init(answer: @escaping (Request) -> Reply) {
            self.answer = answer
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                current = Request(path: head.uri)
                for (name, value) in head.headers { current.headers[name.lowercased()] = value }
            case .body(var buffer):
                current.body += buffer.readBytes(length: buffer.readableBytes) ?? []
            case .end:
                let reply = answer(current)
                var headers = HTTPHeaders(reply.headers)
                headers.add(name: "content-length", value: String(reply.body.utf8.count))
                let status = HTTPResponseStatus(statusCode: reply.status)
                context.write(
                    wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
                    promise: nil
                )
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: reply.body)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}

import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// A webhook target that takes requests and never answers, as a hung receiver does.
final class SilentTarget: Sendable {
    private let channel: any Channel
    /// One element per request that arrived.
    let requests: AsyncStream<Void>

    var url: String { "http://127.0.0.1:\(channel.localAddress?.port ?? 0)/hooks" }

    private final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let arrived: AsyncStream<Void>.Continuation
        init(arrived: AsyncStream<Void>.Continuation) { self.arrived = arrived }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if unwrapInboundIn(data).readableBytesView.starts(with: "POST ".utf8) { arrived.yield() }
        }
    }

    static func start() async throws -> SilentTarget {
        let (requests, arrived) = AsyncStream<Void>.makeStream()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { $0.pipeline.addHandler(Handler(arrived: arrived)) }
            .bind(host: "127.0.0.1", port: 0).get()
        return SilentTarget(channel: channel, requests: requests)
    }

    private init(channel: any Channel, requests: AsyncStream<Void>) {
        self.channel = channel
        self.requests = requests
    }

    func stop() async { try? await channel.close() }
}

@Suite("Webhook shutdown", .timeLimit(.minutes(2)))
struct WebhookShutdownTests {
    @Test("A graceful shutdown does not wait out a target that never answers; the delivery is attempted again")
    func silentTarget() async throws {
        let target = try await SilentTarget.start()
        defer { Task { await target.stop() } }
        let configure = WebhookTest.configure()
        try await TestServer.with(configure: {
            configure(&$0)
            // Far beyond the suite's time limit: only the shutdown's own grace can end the attempt.
            $0.engine.webhooks.timeout = .seconds(300)
            // The grace itself is configurable; a short one keeps the test from waiting twice 5 s.
            $0.engine.webhooks.shutdownGrace = .milliseconds(100)
        }) { server in
            let http = TestHTTP(server)
            let endpoint = try await WebhookTest.createEndpoint(
                http,
                body: #"{"url":"\#(target.url)","channels":["orders"]}"#
            )
            let id = try #require(endpoint["id"]?.stringValue)
            try await http.publish("orders", type: "order.created")
            var arrivals = target.requests.makeAsyncIterator()
            try #require(await arrivals.next() != nil)
            try await server.restart()
            // The cancelled attempt was not recorded as one; after the restart it is made again.
            try #require(await arrivals.next() != nil)
            let listed = try #require(try await WebhookTest.deliveries(http, endpoint: id).first)
            let delivery = try await http.request("GET", "/v1/deliveries/\(listed["id"]?.stringValue ?? "")").json
            #expect(delivery["status"]?.stringValue == "pending")
            #expect(delivery["attempts"]?.arrayValue?.isEmpty == true)
        }
    }
}

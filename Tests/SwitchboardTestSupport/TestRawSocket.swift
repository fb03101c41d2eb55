import NIOCore
import NIOPosix

/// A bare TCP connection that sends exactly the bytes a test gives it, for peers no HTTP client would
/// play: one that sends nothing, a byte at a time, or half a request head.
public final class TestRawSocket: Sendable {
    private let channel: any Channel
    private let inbox: TestInbox<String>

    private init(channel: any Channel, inbox: TestInbox<String>) {
        self.channel = channel
        self.inbox = inbox
    }

    /// Connects to `127.0.0.1:port`.
    public static func connect(port: Int) async throws -> TestRawSocket {
        let inbox = TestInbox<String>()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).channelInitializer {
            channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(RawReader(inbox: inbox))
            }
        }.connect(host: "127.0.0.1", port: port).get()
        return TestRawSocket(channel: channel, inbox: inbox)
    }

    /// Sends `text` as is.
    public func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text)).get()
    }

    /// Sends `bytes` as they are (a WebSocket frame, say), in one write.
    public func send(bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    /// Everything received until the server closed the connection; nil when it was still open after
    /// `seconds`.
    public func readUntilClosed(timeout seconds: Double = 60) async -> String? {
        var received = ""
        while true {
            guard let chunk = await inbox.next(timeout: .milliseconds(Int64(seconds * 1000))) else {
                return channel.isActive ? nil : received
            }
            received += chunk
        }
    }

    /// Everything received until the received text contains `text`; nil when the connection ended
    /// (or `seconds` passed) first.
    public func readUntil(containing text: String, timeout seconds: Double = 60) async -> String? {
        var received = ""
        while !received.contains(text) {
            guard let chunk = await inbox.next(timeout: .milliseconds(Int64(seconds * 1000))) else { return nil }
            received += chunk
        }
        return received
    }

    /// Calls `body` once the connection is closed, by either side.
    public func onClose(_ body: @escaping @Sendable () -> Void) {
        channel.closeFuture.whenComplete { _ in body() }
    }

    /// Whether the connection is closed.
    public var isClosed: Bool { !channel.isActive }

    /// Closes the connection.
    public func close() async {
        try? await channel.close().get()
    }
}

private final class RawReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let inbox: TestInbox<String>

    init(inbox: TestInbox<String>) {
        self.inbox = inbox
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        inbox.push(String(buffer: unwrapInboundIn(data)))
    }

    func channelInactive(context: ChannelHandlerContext) {
        inbox.finish()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

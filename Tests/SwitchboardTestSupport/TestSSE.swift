import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A minimal Server-Sent Events client over a raw socket: sends the GET, de-chunks the body and
/// yields each event's `id` and `data` (comments are skipped).
public final class TestSSE: Sendable {
    /// One event as received.
    public struct Message: Sendable, Equatable {
        /// The `id:` line.
        public let id: String?
        /// The `event:` line.
        public let event: String?
        /// The `data:` lines joined.
        public let data: String
    }

    /// The response status.
    public let status: Int
    private let channel: any Channel
    private let inbox: TestInbox<TestSSE.Message>

    private init(status: Int, channel: any Channel, inbox: TestInbox<TestSSE.Message>) {
        self.status = status
        self.channel = channel
        self.inbox = inbox
    }

    /// Opens `path` on `127.0.0.1:port` with `headers`; with `includeComments`, comment lines arrive as
    /// messages whose `event` is `":"` and whose `data` is the comment text.
    public static func connect(
        port: Int,
        path: String,
        headers: [String: String] = [:],
        includeComments: Bool = false,
        receiveBufferSize: Int? = nil
    ) async throws -> TestSSE {
        let inbox = TestInbox<TestSSE.Message>()
        let statusPromise = NIOLockedValueBox<EventLoopPromise<Int>?>(nil)
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        if let receiveBufferSize {
            bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBufferSize))
        }
        let channel = try await bootstrap.channelInitializer {
            channel in
            let promise = channel.eventLoop.makePromise(of: Int.self)
            statusPromise.withLockedValue { $0 = promise }
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(
                    SSEReader(inbox: inbox, status: promise, includeComments: includeComments)
                )
            }
        }.connect(host: "127.0.0.1", port: port).get()
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAccept: text/event-stream\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        try await channel.writeAndFlush(ByteBuffer(string: request)).get()
        guard let promise = statusPromise.withLockedValue({ $0 }) else { throw TestServerError("no connection") }
        let status = try await promise.futureResult.get()
        return TestSSE(status: status, channel: channel, inbox: inbox)
    }

    /// The next event, or nil when the stream ended (or `seconds` passed).
    public func next(timeout seconds: Double = 10) async -> Message? {
        await inbox.next(timeout: .milliseconds(Int64(seconds * 1000)))
    }

    /// The body of a non-200 response.
    public func errorBody(timeout seconds: Double = 10) async -> String {
        await inbox.next(timeout: .milliseconds(Int64(seconds * 1000)))?.data ?? ""
    }

    /// Stops or resumes reading from the socket (a stopped reader lets the server's buffers fill).
    public func setReading(_ isReading: Bool) async throws {
        try await channel.setOption(.autoRead, value: isReading).get()
        if isReading { channel.read() }
    }

    /// Closes the connection.
    public func close() async {
        try? await channel.close().get()
    }
}

private final class SSEReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let inbox: TestInbox<TestSSE.Message>
    private let status: EventLoopPromise<Int>
    private var raw = ByteBuffer()
    private var headDone = false
    private var isChunked = false
    private var isError = false
    private var body = ""

    private let includeComments: Bool

    init(inbox: TestInbox<TestSSE.Message>, status: EventLoopPromise<Int>, includeComments: Bool) {
        self.inbox = inbox
        self.status = status
        self.includeComments = includeComments
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        raw.writeBuffer(&incoming)
        if !headDone {
            guard let head = raw.readHTTPResponseHead() else { return }
            headDone = true
            isChunked = head.lowercased().contains("transfer-encoding: chunked")
            let code = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
            isError = code != 200
            status.succeed(code)
        }
        if isChunked {
            while let line = raw.getString(at: raw.readerIndex, length: raw.readableBytes),
                let crlf = line.range(of: "\r\n")
            {
                let sizeText = String(line[..<crlf.lowerBound])
                guard let size = Int(sizeText, radix: 16) else { return }
                let headerLength = sizeText.utf8.count + 2
                guard raw.readableBytes >= headerLength + size + 2 else { return }
                raw.moveReaderIndex(forwardBy: headerLength)
                let chunk = raw.readString(length: size) ?? ""
                raw.moveReaderIndex(forwardBy: 2)
                if size == 0 {
                    inbox.finish()
                    return
                }
                consume(chunk)
            }
        } else {
            consume(raw.readString(length: raw.readableBytes) ?? "")
        }
        raw.discardReadBytes()
    }

    private func consume(_ text: String) {
        if isError {
            inbox.push(TestSSE.Message(id: nil, event: "error", data: text))
            return
        }
        body += text
        while let range = body.range(of: "\n\n") {
            let block = String(body[..<range.lowerBound])
            body = String(body[range.upperBound...])
            var id: String?
            var event: String?
            var data: [String] = []
            for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix(":") {
                    if includeComments {
                        inbox.push(
                            TestSSE.Message(
                                id: nil,
                                event: ":",
                                data: String(line.dropFirst()).trimmingCharacters(in: .whitespaces)
                            )
                        )
                    }
                    continue
                }
                if line.hasPrefix("id: ") { id = String(line.dropFirst(4)) }
                if line.hasPrefix("event: ") { event = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data.append(String(line.dropFirst(6))) }
            }
            if !data.isEmpty { inbox.push(TestSSE.Message(id: id, event: event, data: data.joined(separator: "\n"))) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        status.fail(TestServerError("connection closed"))
        inbox.finish()
    }
}

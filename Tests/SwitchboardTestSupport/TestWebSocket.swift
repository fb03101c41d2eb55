import Foundation
import NIOConcurrencyHelpers
public import NIOCore
import NIOPosix
public import SwitchboardCore

/// A minimal WebSocket client over a raw NIO socket, for tests that need control a library client
/// hides: it can stop reading (to play a slow consumer) and reports close codes exactly.
public final class TestWebSocket: Sendable {
    /// What the server sent.
    public enum Message: Sendable, Equatable {
        case text(String)
        case close(code: UInt16)
        case ping
    }

    private let channel: any Channel
    private let inbox: TestInbox<TestWebSocket.Message>

    private init(channel: any Channel, inbox: TestInbox<TestWebSocket.Message>) {
        self.channel = channel
        self.inbox = inbox
    }

    /// Connects and upgrades `path` on `127.0.0.1:port`; `receiveBufferSize` shrinks the socket's buffer.
    public static func connect(
        port: Int,
        path: String = "/v1/ws",
        headers: [String: String] = [:],
        receiveBufferSize: Int? = nil
    ) async throws -> TestWebSocket {
        let inbox = TestInbox<TestWebSocket.Message>()
        let handshake = NIOLockedValueBox<EventLoopPromise<Void>?>(nil)
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        if let receiveBufferSize {
            bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBufferSize))
        }
        let channel = try await bootstrap.channelInitializer { channel in
            let promise = channel.eventLoop.makePromise(of: Void.self)
            handshake.withLockedValue { $0 = promise }
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(
                    FrameReader(inbox: inbox, handshake: promise)
                )
            }
        }.connect(host: "127.0.0.1", port: port).get()
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        request += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        try await channel.writeAndFlush(ByteBuffer(string: request)).get()
        guard let promise = handshake.withLockedValue({ $0 }) else { throw TestWebSocketError.handshakeFailed("") }
        try await promise.futureResult.get()
        return TestWebSocket(channel: channel, inbox: inbox)
    }

    /// Sends a text message (masked, as a client must).
    public func send(_ text: String) async throws {
        try await sendFrame(opcode: 0x1, payload: ByteBuffer(string: text))
    }

    /// Sends a ping with `payload` (at most 125 bytes).
    public func ping(_ payload: String = "") async throws {
        try await sendFrame(opcode: 0x9, payload: ByteBuffer(string: payload))
    }

    /// Sends a close frame with `code`, and keeps the socket open.
    public func sendClose(code: UInt16 = 1000) async throws {
        var payload = ByteBuffer()
        payload.writeInteger(code)
        try await sendFrame(opcode: 0x8, payload: payload)
    }

    /// Sends one final frame with `opcode` and `payload`.
    public func sendFrame(opcode: UInt8, payload: ByteBuffer) async throws {
        var payload = payload
        var frame = ByteBuffer()
        frame.writeInteger(UInt8(0x80 | opcode))
        let length = payload.readableBytes
        if length < 126 {
            frame.writeInteger(UInt8(0x80 | length))
        } else if length <= 65535 {
            frame.writeInteger(UInt8(0x80 | 126))
            frame.writeInteger(UInt16(length))
        } else {
            frame.writeInteger(UInt8(0x80 | 127))
            frame.writeInteger(UInt64(length))
        }
        frame.writeInteger(UInt32(0))  // mask key 0: the payload is sent as is
        frame.writeBuffer(&payload)
        try await channel.writeAndFlush(frame).get()
    }

    /// The next message, or nil when the connection ended (or `seconds` passed).
    public func next(timeout seconds: Double = 10) async -> Message? {
        await inbox.next(timeout: .milliseconds(Int64(seconds * 1000)))
    }

    /// The next text message parsed, skipping pings.
    public func nextText(timeout seconds: Double = 10) async -> String? {
        while let message = await next(timeout: seconds) {
            switch message {
            case .text(let text): return text
            case .ping: continue
            case .close: return nil
            }
        }
        return nil
    }

    /// The next text message parsed as JSON, skipping pings; throws when none came.
    public func nextJSON(timeout seconds: Double = 10) async throws -> JSONValue {
        guard let text = await nextText(timeout: seconds) else {
            throw TestWebSocketError.noMessage("no message within \(seconds) s")
        }
        return try JSONParser.parse(text)
    }

    /// The code of the server's close frame, skipping anything before it; nil when the connection ended
    /// without one (or `seconds` passed).
    public func closeCode(timeout seconds: Double = 10) async -> UInt16? {
        while let message = await next(timeout: seconds) {
            if case .close(let code) = message { return code }
        }
        return nil
    }

    /// Stops or resumes reading from the socket (a stopped reader lets the server's buffers fill).
    public func setReading(_ isReading: Bool) async throws {
        try await channel.setOption(.autoRead, value: isReading).get()
        if isReading { channel.read() }
    }

    /// Closes the TCP connection without a close handshake.
    public func drop() async {
        try? await channel.close().get()
    }
}

/// Why a test WebSocket failed.
public enum TestWebSocketError: Error {
    case handshakeFailed(String)
    case noMessage(String)
}

/// Reads the 101 response, then server frames.
private final class FrameReader: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let inbox: TestInbox<TestWebSocket.Message>
    private let handshake: EventLoopPromise<Void>
    private var buffer = ByteBuffer()
    private var upgraded = false
    private var fragments: ByteBuffer?

    init(inbox: TestInbox<TestWebSocket.Message>, handshake: EventLoopPromise<Void>) {
        self.inbox = inbox
        self.handshake = handshake
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        if !upgraded {
            guard let head = buffer.readHTTPResponseHead() else { return }
            guard head.hasPrefix("HTTP/1.1 101") else {
                handshake.fail(TestWebSocketError.handshakeFailed(head))
                return
            }
            upgraded = true
            handshake.succeed()
        }
        parseFrames()
    }

    private func parseFrames() {
        while buffer.readableBytes >= 2 {
            let start = buffer.readerIndex
            guard let first = buffer.getInteger(at: start, as: UInt8.self),
                let second = buffer.getInteger(at: start + 1, as: UInt8.self)
            else { return }
            var length = Int(second & 0x7F)
            var headerLength = 2
            if length == 126 {
                guard let extended = buffer.getInteger(at: start + 2, as: UInt16.self) else { return }
                length = Int(extended)
                headerLength = 4
            } else if length == 127 {
                guard let extended = buffer.getInteger(at: start + 2, as: UInt64.self) else { return }
                length = Int(extended)
                headerLength = 10
            }
            guard buffer.readableBytes >= headerLength + length,
                let payload = buffer.getSlice(at: start + headerLength, length: length)
            else { return }
            buffer.moveReaderIndex(forwardBy: headerLength + length)
            let isFinal = first & 0x80 != 0
            switch first & 0x0F {
            case 0x1:
                if isFinal {
                    inbox.push(.text(String(buffer: payload)))
                } else {
                    fragments = payload
                }
            case 0x0:
                var whole = fragments ?? ByteBuffer()
                var part = payload
                whole.writeBuffer(&part)
                fragments = isFinal ? nil : whole
                if isFinal { inbox.push(.text(String(buffer: whole))) }
            case 0x8:
                inbox.push(.close(code: payload.getInteger(at: payload.readerIndex, as: UInt16.self) ?? 1005))
            case 0x9:
                inbox.push(.ping)
            default:
                break
            }
        }
        buffer.discardReadBytes()
    }

    func channelInactive(context: ChannelHandlerContext) {
        handshake.fail(TestWebSocketError.handshakeFailed("connection closed"))
        inbox.finish()
    }
}

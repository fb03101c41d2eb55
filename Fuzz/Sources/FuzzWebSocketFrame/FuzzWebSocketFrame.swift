/// Fuzz target: the WebSocket read path. The input is fed, in two writes, to NIOWebSocket's
/// `WebSocketFrameDecoder` in an `EmbeddedChannel`; each frame with RSV1 set (permessage-deflate) is
/// inflated by `PerMessageDeflate.inflate` (internal to SwitchboardServer, hence `@testable`) with one
/// inflater kept across the input's frames as with client context takeover, and an inflated message is
/// decoded as a client command. The inflated size must stay within the limit.
import CompressNIO
import NIOCore
import NIOEmbedded
import NIOWebSocket
import SwitchboardCore
@testable import SwitchboardServer

private let limits = Limits()
/// The inflate limit: smaller than the server's (`maximumRequestBytes`) to keep runs fast, and not a power
/// of two, as a configured limit need not be.
private let inflateLimit = 100_000

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebSocketFrame(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let channel = EmbeddedChannel()
    defer { _ = try? channel.finish() }
    do {
        try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: limits.maximumFrameBytes))
        )
    } catch {
        fatalError("cannot set up the channel: \(error)")
    }
    let input = UnsafeRawBufferPointer(start: data, count: size)
    for part in [input[..<(size / 2)], input[(size / 2)...]] {
        // A protocol error ends the input, as it closes the connection.
        do { try channel.writeInbound(channel.allocator.buffer(bytes: part)) } catch { break }
    }
    var inflater: ZlibDecompressor?
    while let frame = try? channel.readInbound(as: WebSocketFrame.self) {
        guard frame.rsv1 else { continue }
        do {
            let active = try inflater ?? ZlibDecompressor(algorithm: .deflate, windowSize: 15)
            let message = try PerMessageDeflate.inflate(frame.unmaskedData, with: active, limit: inflateLimit)
            if message.readerIndex > message.writerIndex || message.writerIndex > message.capacity {
                fatalError(
                    "inflate returned a broken buffer: reader index \(message.readerIndex), writer index "
                        + "\(message.writerIndex), capacity \(message.capacity)"
                )
            }
            if message.readableBytes > inflateLimit { fatalError("inflated \(message.readableBytes) bytes") }
            inflater = active
            _ = try? ClientCommand.decode(Array(message.readableBytesView), limits: limits)
        } catch {
            // The server closes the connection, and its inflater goes with it.
            inflater = nil
        }
    }
    return 0
}

import NIOCore
import NIOSSL

/// A marker handler placed next to the socket (or next to TLS, which must still encrypt). Writes made on
/// its context skip the protocol encoders further up the pipeline, so bytes encoded once for every
/// subscriber (a WebSocket frame, an SSE chunk) go out as they are: past NIO's `WebSocketFrameEncoder`,
/// which the upgrader installs and which cannot be removed, and the HTTP response encoder of an SSE
/// stream.
final class RawBytesWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Adds a writer to `pipeline`, just above TLS when there is TLS, and returns its context.
    @discardableResult
    static func install(in pipeline: ChannelPipeline.SynchronousOperations) throws -> ChannelHandlerContext {
        let writer = RawBytesWriter()
        if let tls = try? pipeline.handler(type: NIOSSLServerHandler.self) {
            try pipeline.addHandler(writer, position: .after(tls))
        } else {
            try pipeline.addHandler(writer, position: .first)
        }
        return try pipeline.context(handler: writer)
    }
}

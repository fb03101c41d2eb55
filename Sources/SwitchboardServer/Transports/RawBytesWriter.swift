import NIOCore

/// A marker handler placed next to the socket. Writes made on its context go straight to the socket,
/// so bytes encoded once for every subscriber (a WebSocket frame, an SSE chunk) bypass the protocol
/// encoders further up the pipeline: NIO's `WebSocketFrameEncoder`, which the upgrader installs and
/// which cannot be removed, and the HTTP response encoder of an SSE stream.
final class RawBytesWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
}

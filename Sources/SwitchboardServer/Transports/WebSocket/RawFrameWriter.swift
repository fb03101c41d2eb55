import NIOCore

/// A marker handler placed next to the socket in an upgraded WebSocket pipeline. Writes made on its
/// context go straight to the socket, so ready-made frame bytes (encoded once by the Hub) bypass
/// NIO's `WebSocketFrameEncoder`, which the upgrader installs and which cannot be removed.
final class RawFrameWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
}

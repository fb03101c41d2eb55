import CompressNIO
import NIOConcurrencyHelpers
public import NIOCore
import Synchronization

/// Compresses WebSocket message payloads for permessage-deflate (RFC 7692) with no context takeover:
/// every message is compressed on its own, so one compressed frame is valid for every connection
/// that negotiated `server_no_context_takeover`, and an event is compressed once for all of them.
public final class FrameDeflater: Sendable {
    /// Payloads smaller than this are sent uncompressed (RSV1 clear), which RFC 7692 allows per message.
    public static let minimumPayloadBytes = 512

    private let lock = NIOLock()
    // Only touched while holding `lock`; zlib streams are not thread-safe, the lock serializes them.
    private nonisolated(unsafe) let compressor: ZlibCompressor?

    /// Makes a deflater (one zlib stream, shared under a lock).
    public init() {
        compressor = try? ZlibCompressor(
            algorithm: .deflate,
            configuration: ZlibConfiguration(windowSize: 15, compressionLevel: 6, memoryLevel: 8)
        )
    }

    /// The compressed payload (trailing `00 00 FF FF` removed), or nil when compression does not pay.
    public func deflate(_ payload: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer? {
        guard payload.readableBytes >= Self.minimumPayloadBytes, let compressor else { return nil }
        return lock.withLock {
            var input = payload
            defer { try? compressor.reset() }
            guard var output = try? input.compressStream(with: compressor, flush: .sync, allocator: allocator),
                output.readableBytes > 4, output.readableBytes < payload.readableBytes
            else { return nil }
            output.moveWriterIndex(to: output.writerIndex - 4)
            return output
        }
    }
}

/// An event's compressed WebSocket frame, made by the first subscriber that needs it and then shared.
public final class LazyDeflatedFrame: Sendable {
    private enum Slot: Sendable {
        case notYet
        case done(ByteBuffer?)
    }

    /// Inline in the object (a `NIOLockedValueBox` would be a second allocation per event).
    private let slot = Mutex(Slot.notYet)
    private let payload: ByteBuffer
    private let deflater: FrameDeflater

    init(payload: ByteBuffer, deflater: FrameDeflater) {
        self.payload = payload
        self.deflater = deflater
    }

    /// The complete compressed frame (RSV1 set), or nil when the uncompressed frame should be sent.
    public func frame(allocator: ByteBufferAllocator) -> ByteBuffer? {
        slot.withLock { slot in
            if case .done(let frame) = slot { return frame }
            let frame = deflater.deflate(payload, allocator: allocator).map {
                WebSocketFrameBytes.frame(.text, payload: $0, compressed: true, allocator: allocator)
            }
            slot = .done(frame)
            return frame
        }
    }
}

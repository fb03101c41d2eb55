import NIOCore
import SwitchboardCore
import SwitchboardEngine
import Testing

@Suite("Encoded batches")
struct EncodedBatchTests {
    @Test("A batch's joined frames are its events' frames back to back, in order")
    func joinedFrames() throws {
        let allocator = ByteBufferAllocator()
        let deflater = FrameDeflater()
        let events = try (1...3).map {
            EncodedEvent(try testEvent("orders", $0), allocator: allocator, deflater: deflater)
        }
        let batch = EncodedBatch(events, allocator: allocator)
        let expected = events.flatMap { Array($0.webSocketFrame.readableBytesView) }
        #expect(Array(batch.joinedWebSocketFrames.readableBytesView) == expected)
        #expect(batch.firstOffset == 1)
        #expect(batch.lastOffset == 3)
    }

    @Test("A batch's joined SSE chunk is one HTTP/1.1 chunk of its events' id lines and data blocks, in order")
    func joinedServerSentChunk() throws {
        let allocator = ByteBufferAllocator()
        let deflater = FrameDeflater()
        let events = try (1...3).map {
            EncodedEvent(try testEvent("orders", $0), allocator: allocator, deflater: deflater)
        }
        let batch = EncodedBatch(events, allocator: allocator)
        let body = events.map { "id: orders@\($0.offset)\n" + String(buffer: $0.serverSentData) }.joined()
        #expect(
            String(buffer: batch.joinedServerSentChunk) == String(body.utf8.count, radix: 16) + "\r\n" + body + "\r\n"
        )
        let single = EncodedBatch([events[0]], allocator: allocator)
        #expect(single.joinedServerSentChunk == events[0].serverSentChunk)
    }

    @Test("A batch of one event shares that event's frame buffer instead of copying it")
    func singleEventIsShared() throws {
        let allocator = ByteBufferAllocator()
        let event = EncodedEvent(try testEvent("orders", 7), allocator: allocator, deflater: FrameDeflater())
        let batch = EncodedBatch([event], allocator: allocator)
        let shared = batch.joinedWebSocketFrames.withUnsafeReadableBytes { $0.baseAddress }
        let original = event.webSocketFrame.withUnsafeReadableBytes { $0.baseAddress }
        #expect(shared == original)
    }
}

import CompressNIO
import NIOCore
import SwitchboardCore
import SwitchboardEngine
import Testing

@Suite("permessage-deflate frames")
struct FrameDeflaterTests {
    private let allocator = ByteBufferAllocator()

    /// Inflates a permessage-deflate payload as a client does (RFC 7692 §7.2.2): append `00 00 FF FF`,
    /// then raw-inflate with a fresh context (the server takes no context over).
    private func inflate(_ compressed: ByteBuffer) throws -> ByteBuffer {
        var input = compressed
        input.writeBytes([0x00, 0x00, 0xFF, 0xFF])
        let decompressor = try ZlibDecompressor(algorithm: .deflate, windowSize: 15)
        var output = allocator.buffer(capacity: 1 << 20)
        try input.decompressStream(to: &output, with: decompressor)
        return output
    }

    /// The payload of an unmasked server frame, after its 2, 4 or 10 byte header.
    private func payload(ofFrame frame: ByteBuffer) throws -> ByteBuffer {
        let lengthByte = try #require(frame.getInteger(at: frame.readerIndex + 1, as: UInt8.self))
        let headerLength = lengthByte == 127 ? 10 : lengthByte == 126 ? 4 : 2
        return try #require(
            frame.getSlice(at: frame.readerIndex + headerLength, length: frame.readableBytes - headerLength)
        )
    }

    private func event(data: String) throws -> Event {
        Event(
            id: EventID(stored: "evt_deflate"),
            channel: try ChannelName("orders"),
            offset: 1,
            type: try EventType("order.created"),
            time: Timestamp(millisecondsSinceEpoch: 1_800_000_000_000),
            data: data
        )
    }

    private func compressibleData(items: Int) -> String {
        "[" + (0..<items).map { #"{"sku":"item-\#($0 % 7)","quantity":1,"price":9.99}"# }.joined(separator: ",") + "]"
    }

    @Test("A compressible event's deflated frame has RSV1 set, is smaller, and inflates back to the message")
    func deflatedFrameInflatesToTheMessage() throws {
        let event = try event(data: compressibleData(items: 40))
        let encoded = EncodedEvent(event, allocator: allocator, deflater: FrameDeflater())
        let frame = try #require(encoded.deflatedWebSocketFrame.frame(allocator: allocator))

        #expect(frame.getInteger(at: frame.readerIndex, as: UInt8.self) == 0xC1, "FIN, RSV1 and text")
        #expect(frame.readableBytes < encoded.webSocketFrame.readableBytes)
        let inflated = try inflate(try payload(ofFrame: frame))
        #expect(String(buffer: inflated) == ServerMessage.event(event))
    }

    @Test("The compressed payload ends without the 00 00 FF FF tail a sync flush writes")
    func tailIsRemoved() throws {
        let payload = allocator.buffer(string: compressibleData(items: 40))
        let compressed = try #require(FrameDeflater().deflate(payload, allocator: allocator))
        let tail = compressed.getBytes(at: compressed.writerIndex - 4, length: 4)
        #expect(tail != [0x00, 0x00, 0xFF, 0xFF])
    }

    @Test(
        "Payloads under the minimum size are not compressed",
        arguments: [0, 1, 100, FrameDeflater.minimumPayloadBytes - 1]
    )
    func smallPayloadsAreNotCompressed(size: Int) {
        let payload = allocator.buffer(string: String(repeating: "a", count: size))
        #expect(FrameDeflater().deflate(payload, allocator: allocator) == nil)
    }

    @Test("A small event has no deflated frame, so its plain frame is sent")
    func smallEventHasNoDeflatedFrame() throws {
        let encoded = EncodedEvent(try event(data: #"{"n":1}"#), allocator: allocator, deflater: FrameDeflater())
        #expect(encoded.deflatedWebSocketFrame.frame(allocator: allocator) == nil)
    }

    @Test("A payload that does not shrink is not compressed")
    func incompressiblePayload() {
        // Noise from a fixed linear congruential sequence: deterministic, and deflate cannot shrink it.
        var state: UInt64 = 0x5EED
        let noise = (0..<4096).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        let payload = allocator.buffer(bytes: noise)
        #expect(FrameDeflater().deflate(payload, allocator: allocator) == nil)
    }

    @Test(
        "Every payload is compressed on its own, so each inflates with a fresh context and repeats give the same bytes"
    )
    func noContextTakeover() throws {
        let deflater = FrameDeflater()
        let first = allocator.buffer(string: compressibleData(items: 40))
        let second = allocator.buffer(string: compressibleData(items: 41))
        let firstCompressed = try #require(deflater.deflate(first, allocator: allocator))
        let secondCompressed = try #require(deflater.deflate(second, allocator: allocator))
        let firstAgain = try #require(deflater.deflate(first, allocator: allocator))

        #expect(firstAgain == firstCompressed)
        #expect(try inflate(secondCompressed) == second)
        #expect(try inflate(firstAgain) == first)
    }

    @Test("An event's deflated frame is made once and then shared")
    func deflatedFrameIsMadeOnce() throws {
        let encoded = EncodedEvent(
            try event(data: compressibleData(items: 40)),
            allocator: allocator,
            deflater: FrameDeflater()
        )
        let first = try #require(encoded.deflatedWebSocketFrame.frame(allocator: allocator))
        let second = try #require(encoded.deflatedWebSocketFrame.frame(allocator: allocator))
        #expect(storageAddress(first) == storageAddress(second))
    }

    @Test("One deflater used from many tasks at once compresses every payload correctly")
    func concurrentUse() async throws {
        let deflater = FrameDeflater()
        let allocator = self.allocator
        let payloads = (0..<16).map { allocator.buffer(string: compressibleData(items: 20 + $0)) }
        let compressed = await withTaskGroup(of: (Int, ByteBuffer?).self) { group in
            for (index, payload) in payloads.enumerated() {
                group.addTask { (index, deflater.deflate(payload, allocator: allocator)) }
            }
            return await group.reduce(into: [Int: ByteBuffer?]()) { $0[$1.0] = $1.1 }
        }
        for (index, payload) in payloads.enumerated() {
            let result = try #require(compressed[index] ?? nil)
            #expect(try inflate(result) == payload)
        }
    }
}

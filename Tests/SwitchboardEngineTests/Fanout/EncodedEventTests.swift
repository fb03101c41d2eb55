import NIOCore
import SwitchboardCore
import SwitchboardEngine
import Testing

@Suite("Encoded events and WebSocket frame bytes")
struct EncodedEventTests {
    private let allocator = ByteBufferAllocator()

    /// A payload length and the header bytes RFC 6455 §5.2 gives a final, unmasked text frame of it.
    struct FrameLength: Sendable, CustomTestStringConvertible {
        let length: Int
        let header: [UInt8]
        var testDescription: String { "\(length) bytes" }
    }

    @Test(
        "A frame's header encodes the payload length in 7 bits, 16 bits after 126, or 64 bits after 127",
        arguments: [
            FrameLength(length: 0, header: [0x81, 0]),
            FrameLength(length: 1, header: [0x81, 1]),
            FrameLength(length: 125, header: [0x81, 125]),
            FrameLength(length: 126, header: [0x81, 126, 0x00, 0x7E]),
            FrameLength(length: 1000, header: [0x81, 126, 0x03, 0xE8]),
            FrameLength(length: 65535, header: [0x81, 126, 0xFF, 0xFF]),
            FrameLength(length: 65536, header: [0x81, 127, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00]),
            FrameLength(length: 100_000, header: [0x81, 127, 0, 0, 0, 0, 0, 0x01, 0x86, 0xA0]),
        ]
    )
    func frameHeader(_ expected: FrameLength) {
        let payloadBytes = (0..<expected.length).map { UInt8(truncatingIfNeeded: $0 % 251) }
        let payload = allocator.buffer(bytes: payloadBytes)
        let frame = WebSocketFrameBytes.frame(.text, payload: payload, allocator: allocator)
        let bytes = Array(frame.readableBytesView)
        #expect(bytes.count == expected.header.count + expected.length)
        #expect(Array(bytes.prefix(expected.header.count)) == expected.header)
        #expect(Array(bytes.dropFirst(expected.header.count)) == payloadBytes)
        #expect(payload.readableBytes == expected.length, "the caller's payload buffer is not consumed")
    }

    @Test(
        "The first byte is FIN plus the opcode, with RSV1 set only for compressed frames",
        arguments: [
            (WebSocketFrameBytes.Opcode.text, false, UInt8(0x81)),
            (.text, true, 0xC1),
            (.close, false, 0x88),
            (.ping, false, 0x89),
            (.pong, false, 0x8A),
        ]
    )
    func firstByte(opcode: WebSocketFrameBytes.Opcode, compressed: Bool, expected: UInt8) {
        let frame = WebSocketFrameBytes.frame(
            opcode,
            payload: allocator.buffer(string: "x"),
            compressed: compressed,
            allocator: allocator
        )
        #expect(frame.getInteger(at: frame.readerIndex, as: UInt8.self) == expected)
        #expect(frame.getInteger(at: frame.readerIndex + 1, as: UInt8.self) == 1, "the server never masks")
    }

    @Test("A text frame carries the UTF-8 of its string")
    func textFrame() {
        let frame = WebSocketFrameBytes.text(#"{"op":"pong"}"#, allocator: allocator)
        #expect(Array(frame.readableBytesView) == [0x81, 13] + Array(#"{"op":"pong"}"#.utf8))
    }

    @Test("A close frame carries the code big-endian, then the reason, cut to stay within a control frame")
    func closeFrame() {
        let frame = WebSocketFrameBytes.close(code: 4008, reason: "slow consumer", allocator: allocator)
        #expect(Array(frame.readableBytesView) == [0x88, 15, 0x0F, 0xA8] + Array("slow consumer".utf8))

        let long = WebSocketFrameBytes.close(
            code: 1001,
            reason: String(repeating: "r", count: 300),
            allocator: allocator
        )
        let payloadLength = Int(long.getInteger(at: long.readerIndex + 1, as: UInt8.self) ?? 0)
        #expect(payloadLength <= 125)
        #expect(long.readableBytes == 2 + payloadLength)
    }

    @Test("An encoded event's WebSocket frame is one text frame holding {\"op\":\"event\",…}")
    func webSocketFrameOfAnEvent() throws {
        let event = try sampleEvent()
        let encoded = EncodedEvent(event, allocator: allocator, deflater: FrameDeflater())
        let message = Array(ServerMessage.event(event).utf8)
        #expect(message.count == 134)
        #expect(Array(encoded.webSocketFrame.readableBytesView) == [0x81, 126, 0, 134] + message)
        #expect(
            String(decoding: message, as: UTF8.self)
                == #"{"op":"event","id":"evt_1","channel":"orders","offset":7,"type":"order.created","time":"2027-01-15T08:00:00.000Z","data":{"total":12}}"#
        )
        #expect(encoded.offset == 7)
        #expect(encoded.event == event)
    }

    @Test("An encoded event's SSE block is `data: <canonical JSON>` and a blank line")
    func serverSentData() throws {
        let encoded = EncodedEvent(try sampleEvent(), allocator: allocator, deflater: FrameDeflater())
        #expect(
            String(buffer: encoded.serverSentData)
                == "data: "
                + #"{"id":"evt_1","channel":"orders","offset":7,"type":"order.created","time":"2027-01-15T08:00:00.000Z","data":{"total":12}}"#
                + "\n\n"
        )
    }

    @Test("A single-channel stream's chunk is one HTTP/1.1 chunk of the id line and the data block")
    func serverSentChunk() throws {
        let encoded = EncodedEvent(try sampleEvent(), allocator: allocator, deflater: FrameDeflater())
        let body = "id: orders@7\n" + String(buffer: encoded.serverSentData)
        #expect(String(buffer: encoded.serverSentChunk) == String(body.utf8.count, radix: 16) + "\r\n" + body + "\r\n")
    }

    @Test("The payload compressed for permessage-deflate is exactly the event message")
    func deflatedPayload() throws {
        let event = Event(
            id: EventID(stored: "evt_3"),
            channel: try ChannelName("orders"),
            offset: 9,
            type: try EventType("note"),
            time: Timestamp(millisecondsSinceEpoch: 0),
            data: #"{"text":""# + String(repeating: "ab", count: 600) + #""}"#
        )
        let deflater = FrameDeflater()
        let encoded = EncodedEvent(event, allocator: allocator, deflater: deflater)
        let expected = deflater.deflate(ByteBuffer(string: ServerMessage.event(event)), allocator: allocator).map {
            WebSocketFrameBytes.frame(.text, payload: $0, compressed: true, allocator: allocator)
        }
        #expect(expected != nil, "a repetitive 1.2 KB message is worth compressing")
        #expect(encoded.deflatedWebSocketFrame.frame(allocator: allocator) == expected)
    }

    @Test("A long event uses the 16-bit length form and its payload is the whole message")
    func longEvent() throws {
        let data = #"{"text":""# + String(repeating: "a", count: 1000) + #""}"#
        let event = Event(
            id: EventID(stored: "evt_2"),
            channel: try ChannelName("orders"),
            offset: 8,
            type: try EventType("note"),
            time: Timestamp(millisecondsSinceEpoch: 0),
            data: data
        )
        let frame = EncodedEvent(event, allocator: allocator, deflater: FrameDeflater()).webSocketFrame
        let message = Array(ServerMessage.event(event).utf8)
        let bytes = Array(frame.readableBytesView)
        #expect(bytes.prefix(4) == [0x81, 126, UInt8(message.count >> 8), UInt8(message.count & 0xFF)])
        #expect(Array(bytes.dropFirst(4)) == message)
    }

    private func sampleEvent() throws -> Event {
        Event(
            id: EventID(stored: "evt_1"),
            channel: try ChannelName("orders"),
            offset: 7,
            type: try EventType("order.created"),
            time: try #require(Timestamp(rfc3339: "2027-01-15T08:00:00Z")),
            data: #"{"total":12}"#
        )
    }
}

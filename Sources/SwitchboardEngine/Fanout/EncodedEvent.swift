public import NIOCore
public import SwitchboardCore

/// An event encoded once, for every subscriber of every transport: the WebSocket frame bytes
/// (header included, unmasked, as a server sends them), the SSE `data:` block, and the Pusher frame
/// when the channel has Pusher subscribers.
public struct EncodedEvent: Sendable {
    /// The event.
    public let event: Event
    /// A complete WebSocket text frame carrying `{"op":"event",…}`.
    public let webSocketFrame: ByteBuffer
    /// The same frame compressed (permessage-deflate), made once on first use.
    public let deflatedWebSocketFrame: LazyDeflatedFrame
    /// `data: <canonical JSON>\n\n`, written after a stream's own `id:` line.
    public let serverSentData: ByteBuffer
    /// The whole SSE event of a single-channel stream (`id: <channel>@<offset>` and the data) as one
    /// HTTP/1.1 chunk, the same bytes for every such stream.
    public let serverSentChunk: ByteBuffer
    /// The event inside `serverSentChunk` without the chunk's framing (`id:` line and data block).
    public let serverSentEvent: ByteBuffer
    /// The event as a Pusher protocol text frame (`PusherMessage.event`), made only when a Pusher
    /// connection subscribes to the channel.
    public let pusherFrame: ByteBuffer?

    /// Encodes `event` with `allocator`: its members are written out once, then copied into the two
    /// buffers every subscriber shares (the WebSocket frame, whose payload is also what gets
    /// compressed, and the SSE chunk, whose `data:` block is also the multi-channel streams' part).
    public init(_ event: Event, allocator: ByteBufferAllocator, deflater: FrameDeflater, pusher: Bool = false) {
        self.event = event
        self.pusherFrame = pusher ? WebSocketFrameBytes.text(PusherMessage.event(event), allocator: allocator) : nil
        var fields = ""
        event.appendFields(into: &fields)
        let fieldBytes = fields.utf8.count

        // `{"op":"event",<fields>}` (as `ServerMessage.event`) behind its frame header, in one buffer.
        let payloadLength = ServerMessage.eventPrefix.utf8.count + fieldBytes + 1
        var frame = allocator.buffer(capacity: payloadLength + 10)
        WebSocketFrameBytes.writeHeader(.text, payloadLength: payloadLength, compressed: false, into: &frame)
        let payloadStart = frame.writerIndex
        frame.writeString(ServerMessage.eventPrefix)
        frame.writeString(fields)
        frame.writeStaticString("}")
        self.webSocketFrame = frame
        let payload = frame.getSlice(at: payloadStart, length: payloadLength) ?? ByteBuffer()
        self.deflatedWebSocketFrame = LazyDeflatedFrame(payload: payload, deflater: deflater)

        // The HTTP/1.1 chunk of a single-channel stream: `id: <channel>@<offset>` and `data: {<fields>}`.
        let offsetText = String(event.offset)
        let idLineLength = 4 + event.channel.rawValue.utf8.count + 1 + offsetText.utf8.count + 1
        let dataLength = 7 + fieldBytes + 3
        let length = idLineLength + dataLength
        var chunk = allocator.buffer(capacity: length + 16)
        chunk.writeString(String(length, radix: 16))
        chunk.writeStaticString("\r\n")
        let eventStart = chunk.writerIndex
        chunk.writeStaticString("id: ")
        chunk.writeString(event.channel.rawValue)
        chunk.writeStaticString("@")
        chunk.writeString(offsetText)
        chunk.writeStaticString("\n")
        let dataStart = chunk.writerIndex
        chunk.writeStaticString("data: {")
        chunk.writeString(fields)
        chunk.writeStaticString("}\n\n")
        self.serverSentData = chunk.getSlice(at: dataStart, length: dataLength) ?? ByteBuffer()
        self.serverSentEvent = chunk.getSlice(at: eventStart, length: length) ?? ByteBuffer()
        chunk.writeStaticString("\r\n")
        self.serverSentChunk = chunk
    }

    /// The event's offset.
    public var offset: Int64 { event.offset }
}

/// Consecutive events of one channel from one commit, encoded once, with their WebSocket frames and
/// their SSE events also joined, so that a subscriber that is in step takes the whole batch in one
/// write (and an SSE client reads it as one chunk).
public struct EncodedBatch: Sendable {
    /// The events, in offset order.
    public let events: [EncodedEvent]
    /// Every event's WebSocket frame back to back (the single frame when there is one event).
    public let joinedWebSocketFrames: ByteBuffer
    /// Every event of a single-channel SSE stream in one HTTP/1.1 chunk (the event's own chunk when
    /// there is one event).
    public let joinedServerSentChunk: ByteBuffer

    /// Joins `events`' frames and SSE events (once, for every subscriber).
    public init(_ events: [EncodedEvent], allocator: ByteBufferAllocator) {
        self.events = events
        if events.count == 1 {
            joinedWebSocketFrames = events[0].webSocketFrame
            joinedServerSentChunk = events[0].serverSentChunk
        } else {
            var joined = allocator.buffer(capacity: events.reduce(0) { $0 + $1.webSocketFrame.readableBytes })
            for event in events {
                var frame = event.webSocketFrame
                joined.writeBuffer(&frame)
            }
            joinedWebSocketFrames = joined
            let length = events.reduce(0) { $0 + $1.serverSentEvent.readableBytes }
            var chunk = allocator.buffer(capacity: length + 16)
            chunk.writeString(String(length, radix: 16))
            chunk.writeStaticString("\r\n")
            for event in events {
                var block = event.serverSentEvent
                chunk.writeBuffer(&block)
            }
            chunk.writeStaticString("\r\n")
            joinedServerSentChunk = chunk
        }
    }

    /// The first offset.
    public var firstOffset: Int64 { events.first?.offset ?? 0 }
    /// The last offset.
    public var lastOffset: Int64 { events.last?.offset ?? 0 }
}

/// Writes server-to-client WebSocket frames (RFC 6455 §5.2: never masked).
public enum WebSocketFrameBytes {
    /// The opcodes the server sends.
    public enum Opcode: UInt8, Sendable {
        case text = 0x1
        case close = 0x8
        case ping = 0x9
        case pong = 0xA
    }

    /// A final text frame holding `text`.
    public static func text(_ text: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        var payload = allocator.buffer(capacity: text.utf8.count)
        payload.writeString(text)
        return frame(.text, payload: payload, allocator: allocator)
    }

    /// A final frame of `opcode` around `payload`; `compressed` sets RSV1 (permessage-deflate).
    public static func frame(
        _ opcode: Opcode,
        payload: ByteBuffer,
        compressed: Bool = false,
        allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        let length = payload.readableBytes
        var buffer = allocator.buffer(capacity: length + 10)
        writeHeader(opcode, payloadLength: length, compressed: compressed, into: &buffer)
        var payload = payload
        buffer.writeBuffer(&payload)
        return buffer
    }

    /// Writes the header of a final frame of `opcode` whose payload is `payloadLength` bytes.
    public static func writeHeader(
        _ opcode: Opcode,
        payloadLength length: Int,
        compressed: Bool,
        into buffer: inout ByteBuffer
    ) {
        buffer.writeInteger(UInt8(0x80 | (compressed ? 0x40 : 0) | opcode.rawValue))
        if length < 126 {
            buffer.writeInteger(UInt8(length))
        } else if length <= Int(UInt16.max) {
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(length))
        } else {
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(length))
        }
    }

    /// A close frame with `code` and a short reason.
    public static func close(code: UInt16, reason: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        var payload = allocator.buffer(capacity: 2 + reason.utf8.count)
        payload.writeInteger(code)
        // A close frame's payload is at most 125 bytes: cut the reason on a character boundary.
        var cut = ""
        for character in reason where cut.utf8.count + character.utf8.count <= 120 { cut.append(character) }
        payload.writeString(cut)
        return frame(.close, payload: payload, allocator: allocator)
    }
}

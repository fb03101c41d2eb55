import CompressNIO
import NIOCore
import SwitchboardCore
import SwitchboardEngine
import Testing

@testable import SwitchboardServer

@Suite("permessage-deflate negotiation")
struct PerMessageDeflateTests {
    @Test(
        "Acceptable offers are agreed, with client_no_context_takeover echoed when offered",
        arguments: [
            ("permessage-deflate", false),
            ("permessage-deflate; client_max_window_bits", false),
            ("permessage-deflate; client_max_window_bits=10; server_no_context_takeover", false),
            ("permessage-deflate; client_no_context_takeover", true),
            ("x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=15", false),
        ]
    )
    func agreed(offer: String, clientNoContextTakeover: Bool) {
        let agreement = PerMessageDeflate.negotiate(offers: [offer])
        #expect(agreement == PerMessageDeflate(clientNoContextTakeover: clientNoContextTakeover))
        #expect(agreement?.responseHeader.hasPrefix("permessage-deflate; server_no_context_takeover") == true)
    }

    @Test(
        "Malformed or unacceptable offers are declined without failing the upgrade",
        arguments: [
            "permessage-deflate;=",
            "permessage-deflate; ;x",
            "permessage-deflate; =15",
            "permessage-deflate; server_max_window_bits=",
            "permessage-deflate; server_max_window_bits=10",
            "permessage-deflate; client_max_window_bits=99",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; unknown_parameter",
            "x-other",
            ";;;",
            "",
        ]
    )
    func declined(offer: String) {
        #expect(PerMessageDeflate.negotiate(offers: [offer]) == nil)
    }

    /// `count` bytes of a compressible text, deflated as a permessage-deflate payload.
    private func deflated(_ count: Int) throws -> ByteBuffer {
        let text = String(repeating: "switchboard ", count: count / 12 + 1).prefix(count)
        return try #require(FrameDeflater().deflate(ByteBuffer(string: String(text)), allocator: ByteBufferAllocator()))
    }

    @Test(
        "A message inflating past the limit is too_large, whatever the limit (found by fuzzing: 117,564 bytes passed a 100,000 limit)",
        arguments: [(117_564, 100_000), (100_001, 100_000), (5000, 4096), (1 << 20 + 1, 1 << 20)]
    )
    func inflateRespectsTheLimit(size: Int, limit: Int) throws {
        let inflater = try ZlibDecompressor(algorithm: .deflate, windowSize: 15)
        let error = #expect(throws: SwitchboardError.self) {
            try PerMessageDeflate.inflate(try deflated(size), with: inflater, limit: limit)
        }
        #expect(error?.code == .tooLarge)
    }

    @Test("A message inflating to exactly the limit, or less, is returned whole", arguments: [100_000, 4096, 17])
    func inflateWithinTheLimit(size: Int) throws {
        let inflater = try ZlibDecompressor(algorithm: .deflate, windowSize: 15)
        let payload = try deflated(max(size, FrameDeflater.minimumPayloadBytes))
        let inflated = try PerMessageDeflate.inflate(payload, with: inflater, limit: 100_000)
        #expect(inflated.readableBytes == max(size, FrameDeflater.minimumPayloadBytes))
    }
}

import CompressNIO
import NIOCore
import SwitchboardCore

/// permessage-deflate (RFC 7692) as Switchboard speaks it: the server never keeps compression context
/// between messages (`server_no_context_takeover`), so that one compressed event frame serves every
/// subscriber; the client may keep its own context unless it offered not to.
struct PerMessageDeflate: Sendable, Equatable {
    /// Whether the client promised to compress each message on its own.
    let clientNoContextTakeover: Bool

    /// The `Sec-WebSocket-Extensions` response value.
    var responseHeader: String {
        "permessage-deflate; server_no_context_takeover"
            + (clientNoContextTakeover ? "; client_no_context_takeover" : "")
    }

    /// The agreement for the first acceptable offer in the request's `Sec-WebSocket-Extensions` values.
    static func negotiate(offers headerValues: [String]) -> PerMessageDeflate? {
        for offer in headerValues.flatMap({ $0.split(separator: ",") }) {
            let parts = offer.split(separator: ";").map { $0.trimmingCharacters(in: " \t") }
            guard parts.first == "permessage-deflate" else { continue }
            var seen: Set<String> = []
            var clientNoContextTakeover = false
            var acceptable = true
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    .map { $0.trimmingCharacters(in: " \t\"") }
                let value = pair.count == 2 ? pair[1] : nil
                guard let name = pair.first, !name.isEmpty, value?.isEmpty != true, seen.insert(name).inserted else {
                    acceptable = false
                    break
                }
                switch name {
                case "server_no_context_takeover":
                    break
                case "client_no_context_takeover":
                    clientNoContextTakeover = true
                case "server_max_window_bits":
                    // We compress with a 32 KiB window; a client that wants a smaller one gets no deflate.
                    acceptable = acceptable && value == "15"
                case "client_max_window_bits":
                    if let value {
                        acceptable = acceptable && (Int(value).map { (8...15).contains($0) } ?? false)
                    }
                default:
                    acceptable = false
                }
            }
            if acceptable { return PerMessageDeflate(clientNoContextTakeover: clientNoContextTakeover) }
        }
        return nil
    }

    /// Inflates one compressed message, refusing output over `limit` bytes.
    static func inflate(_ compressed: ByteBuffer, with inflater: ZlibDecompressor, limit: Int) throws(SwitchboardError)
        -> ByteBuffer
    {
        var input = compressed
        input.writeBytes([0x00, 0x00, 0xFF, 0xFF])
        var output = ByteBufferAllocator().buffer(capacity: min(limit, max(4096, compressed.readableBytes * 4)))
        let tooLarge = SwitchboardError(.tooLarge, "the message inflates to more than \(limit) bytes")
        while true {
            do {
                try input.decompressStream(to: &output, with: inflater)
                // A grown buffer may hold more than `limit` (its capacity is rounded up): count what
                // was written, not what fits.
                guard output.readableBytes <= limit else { throw tooLarge }
                if input.readableBytes == 0 { return output }
            } catch let error as CompressNIOError where error == .bufferOverflow {
                // handled below by growing
            } catch let error as SwitchboardError {
                throw error
            } catch {
                throw SwitchboardError(.badRequest, "the compressed message is corrupt")
            }
            guard output.readableBytes < limit, output.capacity < limit else { throw tooLarge }
            output.reserveCapacity(min(limit + 1, output.capacity * 2))
        }
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        var slice = Substring(self)
        while let first = slice.first, characters.contains(first) { slice.removeFirst() }
        while let last = slice.last, characters.contains(last) { slice.removeLast() }
        return String(slice)
    }
}

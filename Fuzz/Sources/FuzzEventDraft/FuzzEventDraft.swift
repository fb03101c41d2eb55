/// Fuzz target: `EventDraft.parse` on the JSON object the input parses to, the way the publish routes
/// call it: with the channel from the URL or from the body, and with or without an `Idempotency-Key`.
/// The input's first line is the header key (an empty line: none); the rest is the body.
import SwitchboardCore

private let limits = Limits()
private let urlChannel = try! ChannelName("orders")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEventDraft(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let newline = bytes.firstIndex(of: UInt8(ascii: "\n"))
    let keyBytes = newline.map { bytes[..<$0] } ?? []
    let headerKey = keyBytes.isEmpty ? nil : String(decoding: keyBytes, as: UTF8.self)
    let body = newline.map { Array(bytes[($0 + 1)...]) } ?? bytes
    guard let value = try? JSONParser.parse(body) else { return 0 }
    for channel in [urlChannel, nil] {
        for key in [nil, headerKey] {
            guard let draft = try? EventDraft.parse(value, channel: channel, headerKey: key, limits: limits)
            else { continue }
            precondition(draft.data.utf8.count <= limits.maximumDataBytes, "a draft over the data limit")
            precondition((try? JSONParser.parse(draft.data)) != nil, "a draft's data is not JSON: \(draft.data)")
            if let channel { precondition(draft.channel == channel, "the URL's channel was not kept") }
        }
    }
    return 0
}

/// Fuzz target: inbound webhook verification. The input is split into a request: the header lines
/// (`Name: value`) up to the first empty line, then the body (no empty line: all body, no headers). The
/// request is verified under every scheme, then interpreted as the inbound route does; nothing may crash.
import SwitchboardCore

/// The instant every verification runs at; the seed corpus signs this time.
private let now: Int64 = 1_700_000_000
/// A Standard Webhooks secret (base64 of `fuzz-secret-key!`) and a plain one for the HMAC schemes.
private let secrets = ["whsec_ZnV6ei1zZWNyZXQta2V5IQ==", "fuzz-secret"]
private let channel = try! ChannelName("inbound")

private let schemes: [InboundScheme] =
    [.standard, .stripe, .slack, .github, .shopify, .none]
    + HMACHeaderRule.Algorithm.allCases.flatMap { algorithm in
        HMACHeaderRule.Encoding.allCases.map { encoding in
            .hmac(HMACHeaderRule(header: "X-Fuzz-Signature", algorithm: algorithm, encoding: encoding, prefix: "mac="))
        }
    }

private let sources = schemes.map { InboundSource(name: "fuzz", scheme: $0, secrets: secrets, channel: channel) }

/// Splits the input into headers and body, as described above.
private func request(from bytes: [UInt8]) -> InboundRequest {
    let newline = UInt8(ascii: "\n")
    var end: Int?
    for i in bytes.indices.dropLast() where bytes[i] == newline && bytes[i + 1] == newline {
        end = i
        break
    }
    guard let end else { return InboundRequest(headers: [], body: bytes) }
    var headers: [(name: String, value: String)] = []
    for line in bytes[..<end].split(separator: newline) {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
        let value = line[(colon + 1)...].drop { $0 == UInt8(ascii: " ") }
        headers.append((String(decoding: line[..<colon], as: UTF8.self), String(decoding: value, as: UTF8.self)))
    }
    return InboundRequest(headers: headers, body: Array(bytes[(end + 2)...]))
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInbound(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let request = request(from: Array(UnsafeBufferPointer(start: data, count: size)))
    for source in sources {
        let verdict = InboundVerifier.verify(
            request,
            scheme: source.scheme,
            secrets: source.secrets,
            now: now,
            toleranceSeconds: Int64(source.toleranceSeconds)
        )
        if case .none = source.scheme, case .failure = verdict { fatalError("scheme none refused a request") }
        _ = try? source.interpret(request, maximumDataBytes: 64 * 1024)
    }
    return 0
}

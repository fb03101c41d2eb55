import SwitchboardCore

/// A request's query string as the Pusher HTTP API signs it: name/value pairs in order, each
/// percent-decoded, `+` read as a space (the server libraries form-encode their parameters).
enum PusherQuery {
    /// The pairs of `query` (without its `?`); nil when an escape is malformed or a value is not UTF-8.
    static func pairs(_ query: String?) -> [(String, String)]? {
        guard let query, !query.isEmpty else { return [] }
        var pairs: [(String, String)] = []
        for item in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decoded(parts[0]), let value = decoded(parts.count > 1 ? parts[1] : "") else {
                return nil
            }
            pairs.append((name, value))
        }
        return pairs
    }

    private static func decoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"):
                bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next(), let low = iterator.next(),
                    let value = Hex.decode(String(decoding: [high, low], as: UTF8.self))?.first
                else { return nil }
                bytes.append(value)
            default:
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}

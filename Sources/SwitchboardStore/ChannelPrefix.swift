/// Channel names by prefix as a range of the channels' primary key.
enum ChannelPrefix {
    /// The smallest name after every name starting with `prefix` (an ASCII prefix whose last byte is
    /// below 0x7F, as every channel name's): the prefix with its last byte raised by one.
    static func upperBound(of prefix: String) -> String {
        var bytes = Array(prefix.utf8)
        guard let last = bytes.popLast(), last < 0x7F else { return prefix + "\u{7F}" }
        bytes.append(last + 1)
        return String(decoding: bytes, as: UTF8.self)
    }
}

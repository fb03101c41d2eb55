/// A channel or type pattern: an exact name, or a prefix ending in `*` (`chat:*`, `*`).
public struct NamePattern: Hashable, Sendable, CustomStringConvertible {
    /// The pattern as written.
    public let rawValue: String
    private let prefix: Substring
    private let isPrefix: Bool

    /// Parses a pattern: the characters of a name (`A–Z a–z 0–9 _ - . : =`, a leading `$`; with
    /// `ofTypes`, also a type's `\`), and `*`
    /// only at the end. Anything else could match no name, and a space would split a key's stored
    /// scopes (`publish:x admin` must never read back as two scopes).
    /// A pattern of a journal (`$presence:…`, `$occupancy:…`) may be longer by its prefix, as its
    /// channels are.
    public init(_ rawValue: String, ofTypes: Bool = false) throws(SwitchboardError) {
        let limit = 201 + ChannelName.journalPrefixLength(rawValue)
        guard !rawValue.isEmpty, rawValue.utf8.count <= limit else {
            throw SwitchboardError(.badRequest, "a pattern is 1 to 200 characters, optionally followed by *")
        }
        let star = rawValue.firstIndex(of: "*")
        if let star, star != rawValue.index(before: rawValue.endIndex) {
            throw SwitchboardError(.badRequest, "* may appear only at the end of a pattern")
        }
        for (index, byte) in rawValue.utf8.enumerated()
        where
            !(ChannelName.isAllowed(byte) || (ofTypes && EventType.isAllowed(byte))
            || (byte == UInt8(ascii: "$") && index == 0) || byte == UInt8(ascii: "*"))
        {
            throw SwitchboardError(
                .badRequest,
                ofTypes
                    ? "a type pattern may contain only A-Z a-z 0-9 _ - . : = \\ (a leading $, a trailing *)"
                    : "a pattern may contain only A-Z a-z 0-9 _ - . : = (a leading $, a trailing *)"
            )
        }
        self.rawValue = rawValue
        self.isPrefix = star != nil
        self.prefix = star.map { rawValue[..<$0] } ?? Substring(rawValue)
    }

    /// Whether `name` matches.
    public func matches(_ name: String) -> Bool {
        isPrefix ? name.hasPrefix(prefix) : name == prefix
    }

    /// The text form.
    public var description: String { rawValue }
}

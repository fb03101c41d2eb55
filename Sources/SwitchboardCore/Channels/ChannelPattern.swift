/// A channel or type pattern: an exact name, or a prefix ending in `*` (`chat:*`, `*`).
public struct NamePattern: Hashable, Sendable, CustomStringConvertible {
    /// The pattern as written.
    public let rawValue: String
    private let prefix: Substring
    private let isPrefix: Bool

    /// Parses a pattern; `*` may appear only at the end.
    public init(_ rawValue: String) throws(SwitchboardError) {
        guard !rawValue.isEmpty, rawValue.utf8.count <= 201 else {
            throw SwitchboardError(.badRequest, "a pattern is 1 to 200 characters, optionally followed by *")
        }
        let star = rawValue.firstIndex(of: "*")
        if let star, star != rawValue.index(before: rawValue.endIndex) {
            throw SwitchboardError(.badRequest, "* may appear only at the end of a pattern")
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

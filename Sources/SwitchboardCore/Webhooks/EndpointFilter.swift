/// Which events an endpoint wants: channel patterns (at least one) and type patterns (none: all types).
public struct EndpointFilter: Hashable, Sendable {
    /// Channel patterns; an event matches when any matches its channel.
    public let channels: [NamePattern]
    /// Type patterns; empty means every type.
    public let types: [NamePattern]

    /// Makes a filter; at least one channel pattern is required.
    public init(channels: [NamePattern], types: [NamePattern]) throws(SwitchboardError) {
        guard !channels.isEmpty else {
            throw SwitchboardError(.badRequest, "an endpoint needs at least one channel pattern, e.g. [\"*\"]")
        }
        self.channels = channels
        self.types = types
    }

    /// Whether an event on `channel` of type `type` is wanted. Server-written channels (`$system`,
    /// `$presence:…`) match only patterns that themselves start with `$`: `*` means the application's channels.
    public func matches(channel: String, type: String) -> Bool {
        let serverWritten = channel.hasPrefix("$")
        return channels.contains { (!serverWritten || $0.rawValue.hasPrefix("$")) && $0.matches(channel) }
            && (types.isEmpty || types.contains { $0.matches(type) })
    }
}

extension NamePattern {
    /// The fixed part: the whole name, or the prefix before `*`.
    public var fixedPart: String { isPrefixPattern ? String(rawValue.dropLast()) : rawValue }

    /// Whether the pattern ends in `*`.
    public var isPrefixPattern: Bool { rawValue.hasSuffix("*") }
}

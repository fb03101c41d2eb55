/// A validated event type: 1–200 characters of `A–Z a–z 0–9 _ - . :`.
public struct EventType: Hashable, Sendable, CustomStringConvertible {
    /// The type as written.
    public let rawValue: String

    /// Validates `rawValue`.
    public init(_ rawValue: String) throws(SwitchboardError) {
        guard !rawValue.isEmpty, rawValue.utf8.count <= 200 else {
            throw SwitchboardError(.invalidType, "event types are 1 to 200 characters long")
        }
        for byte in rawValue.utf8 where !(ChannelName.isAllowed(byte) && byte != UInt8(ascii: "=")) {
            throw SwitchboardError(.invalidType, "event types may contain only A-Z a-z 0-9 _ - . :")
        }
        self.rawValue = rawValue
    }

    /// A type the server itself uses; not validated.
    init(trusted: String) {
        self.rawValue = trusted
    }

    /// The text form.
    public var description: String { rawValue }
}

/// A validated event type: 1–200 characters of `A–Z a–z 0–9 _ - . : \` (the backslash for the names
/// Laravel broadcasts by default, its events' class names such as `App\Events\OrderShipped`).
public struct EventType: Hashable, Sendable, CustomStringConvertible {
    /// The type as written.
    public let rawValue: String

    /// Validates `rawValue`.
    public init(_ rawValue: String) throws(SwitchboardError) {
        guard !rawValue.isEmpty, rawValue.utf8.count <= 200 else {
            throw SwitchboardError(.invalidType, "event types are 1 to 200 characters long")
        }
        for byte in rawValue.utf8 where !Self.isAllowed(byte) {
            throw SwitchboardError(.invalidType, "event types may contain only A-Z a-z 0-9 _ - . : \\")
        }
        self.rawValue = rawValue
    }

    /// Whether `byte` may appear in a type: a channel name's characters but `=`, and `\`.
    static func isAllowed(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\\") || (ChannelName.isAllowed(byte) && byte != UInt8(ascii: "="))
    }

    /// A type the server itself uses; not validated.
    init(trusted: String) {
        self.rawValue = trusted
    }

    /// The text form.
    public var description: String { rawValue }
}

/// A validated channel name: 1–200 characters of `A–Z a–z 0–9 _ - . : =`, optionally after a leading `$`.
///
/// A server-written journal's name may be longer by the length of its prefix (`$presence:`,
/// `$occupancy:`), so that every channel has its journals.
public struct ChannelName: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The longest name accepted.
    public static let maximumLength = 200
    /// The prefix of a channel's presence journal.
    public static let presencePrefix = "$presence:"
    /// The prefix of a channel's occupancy journal (`channel.occupied`, `channel.vacated`).
    public static let occupancyPrefix = "$occupancy:"

    /// The name as written.
    public let rawValue: String

    /// Validates `rawValue`; a leading `$` (a server-written channel) is allowed here and refused for
    /// publishing by the publisher, not by the grammar.
    public init(_ rawValue: String) throws(SwitchboardError) {
        var body = Substring(rawValue)
        if body.first == "$" { body = body.dropFirst() }
        let limit =
            Self.maximumLength + (body.utf8.count != rawValue.utf8.count ? Self.journalPrefixLength(rawValue) : 0)
        guard !body.isEmpty, rawValue.utf8.count <= limit else {
            throw SwitchboardError(
                .invalidChannel,
                "channel names are 1 to 200 characters long (plus the \(Self.presencePrefix) or \(Self.occupancyPrefix) prefix of a journal)"
            )
        }
        for byte in body.utf8 where !Self.isAllowed(byte) {
            throw SwitchboardError(
                .invalidChannel,
                "channel names may contain only A-Z a-z 0-9 _ - . : = (got \(JSONWriter.quoted(String(rawValue.prefix(64)))))"
            )
        }
        self.rawValue = rawValue
    }

    /// The length of the journal prefix (`$presence:`, `$occupancy:`) `text` starts with, or 0: a
    /// journal's name, and a pattern of journals, may be longer by it.
    static func journalPrefixLength(_ text: String) -> Int {
        if text.hasPrefix(presencePrefix) { return presencePrefix.utf8.count }
        if text.hasPrefix(occupancyPrefix) { return occupancyPrefix.utf8.count }
        return 0
    }

    static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: ":"), UInt8(ascii: "="):
            true
        default: false
        }
    }

    /// The part before the first `:` (the whole name when there is none), without a leading `$`.
    public var namespace: String {
        var body = Substring(rawValue)
        if body.first == "$" { body = body.dropFirst() }
        if let colon = body.firstIndex(of: ":") { return String(body[..<colon]) }
        return String(body)
    }

    /// Whether the server itself writes this channel (`$system`, `$presence:…`).
    public var isServerWritten: Bool { rawValue.first == "$" }

    /// `$presence:<this channel>`, where joins and leaves are journaled.
    public var presenceJournal: ChannelName {
        ChannelName(unchecked: Self.presencePrefix + rawValue)
    }

    /// The channel whose presence this `$presence:` channel journals, if it is one.
    public var presenceSubject: ChannelName? {
        guard rawValue.hasPrefix(Self.presencePrefix) else { return nil }
        return try? ChannelName(String(rawValue.dropFirst(Self.presencePrefix.count)))
    }

    /// `$occupancy:<this channel>`, where this node journals the channel gaining its first subscriber
    /// and losing its last.
    public var occupancyJournal: ChannelName {
        ChannelName(unchecked: Self.occupancyPrefix + rawValue)
    }

    /// Whether retention keeps this channel's newest event whatever its age or count: an occupancy
    /// journal's newest event is whether its channel is occupied, which a node alone reads back when
    /// it starts after a crash.
    public var retentionKeepsNewest: Bool { rawValue.hasPrefix(Self.occupancyPrefix) }

    /// The channel whose occupancy this `$occupancy:` channel journals, if it is one.
    public var occupancySubject: ChannelName? {
        guard rawValue.hasPrefix(Self.occupancyPrefix) else { return nil }
        return try? ChannelName(String(rawValue.dropFirst(Self.occupancyPrefix.count)))
    }

    /// The part after the namespace's `:` (nil when the name has no `:`).
    public var afterNamespace: Substring? {
        guard let colon = rawValue.firstIndex(of: ":") else { return nil }
        return rawValue[rawValue.index(after: colon)...]
    }

    private init(unchecked rawValue: String) {
        self.rawValue = rawValue
    }

    /// The text form.
    public var description: String { rawValue }

    /// Orders values.
    public static func < (lhs: ChannelName, rhs: ChannelName) -> Bool { lhs.rawValue < rhs.rawValue }
}

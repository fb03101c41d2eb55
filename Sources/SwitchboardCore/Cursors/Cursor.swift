/// Where a reader is in one channel: the last offset it has seen (`orders@42`).
public struct Cursor: Hashable, Sendable, CustomStringConvertible {
    /// The channel.
    public let channel: ChannelName
    /// The last offset seen; 0 means "from the beginning of retention".
    public let offset: Int64

    /// Makes a cursor.
    public init(channel: ChannelName, offset: Int64) {
        self.channel = channel
        self.offset = offset
    }

    /// The text form.
    public var description: String { "\(channel.rawValue)@\(offset)" }
}

/// Several cursors, one per channel, written `orders@42,chat:1@7`.
public struct CursorSet: Hashable, Sendable, CustomStringConvertible {
    /// The cursors in the order given.
    public private(set) var cursors: [Cursor]

    /// Makes a set from cursors.
    public init(_ cursors: [Cursor]) {
        self.cursors = cursors
    }

    /// Parses `channel@offset[,channel@offset…]`.
    public init(parsing text: String) throws(SwitchboardError) {
        var result: [Cursor] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let at = part.lastIndex(of: "@"), case let digits = part[part.index(after: at)...],
                !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                let offset = Int64(digits)
            else {
                throw SwitchboardError(.badRequest, "a cursor is channel@offset[,channel@offset…]")
            }
            result.append(Cursor(channel: try ChannelName(String(part[..<at])), offset: offset))
        }
        guard !result.isEmpty else { throw SwitchboardError(.badRequest, "the cursor is empty") }
        self.cursors = result
    }

    /// The offset for `channel`, if the set names it.
    public func offset(for channel: ChannelName) -> Int64? {
        cursors.first { $0.channel == channel }?.offset
    }

    /// Sets `channel`'s offset, adding it when missing.
    public mutating func set(_ channel: ChannelName, to offset: Int64) {
        if let i = cursors.firstIndex(where: { $0.channel == channel }) {
            cursors[i] = Cursor(channel: channel, offset: offset)
        } else {
            cursors.append(Cursor(channel: channel, offset: offset))
        }
    }

    /// The text form.
    public var description: String { cursors.map(\.description).joined(separator: ",") }
}

public import SwitchboardCore

/// What a node hears from the nodes sharing its store: a hint, never the truth (the log is). A node
/// that follows a channel reads the log whenever it hears of a head beyond what it delivered, and it
/// also polls the heads of the channels it follows, so a lost or late message only delays.
public enum DoorbellNews: Sendable, Equatable {
    /// Another node committed events: these channels reached these offsets.
    case heads([ChannelName: Int64])
    /// What was missed is unknown (the listener reconnected, or a message named too many channels):
    /// poll every followed channel now.
    case catchUp
}

/// The text of one doorbell message: the ringing node's name, then one `offset channel` line per
/// channel. A message that would pass `maximumBytes` (PostgreSQL's NOTIFY payload limit is 8000 bytes)
/// names no channel and asks for a catch-up instead.
public struct DoorbellMessage: Sendable, Equatable {
    /// The node that rang.
    public var node: String
    /// What it says.
    public var news: DoorbellNews

    /// The largest message sent.
    public static let maximumBytes = 7900
    private static let catchUpMarker = "*"

    /// Makes a message.
    public init(node: String, news: DoorbellNews) {
        self.node = node
        self.news = news
    }

    /// The payload text.
    public var payload: String {
        switch news {
        case .catchUp:
            return node + "\n" + Self.catchUpMarker
        case .heads(let heads):
            var text = node
            for (channel, head) in heads.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                text += "\n\(head) \(channel.rawValue)"
                if text.utf8.count > Self.maximumBytes {
                    return node + "\n" + Self.catchUpMarker
                }
            }
            return text
        }
    }

    /// Parses a payload; nil when it is not one of ours. A line that does not parse makes the whole
    /// message a catch-up: the hint is lost, not the events.
    public init?(payload: String) {
        var lines = payload.split(separator: "\n", omittingEmptySubsequences: false)[...]
        guard let node = lines.popFirst(), !node.isEmpty else { return nil }
        self.node = String(node)
        if lines.first == Substring(Self.catchUpMarker) {
            self.news = .catchUp
            return
        }
        var heads: [ChannelName: Int64] = [:]
        for line in lines {
            guard let space = line.firstIndex(of: " "),
                let head = Int64(line[..<space]), head >= 0,
                let channel = try? ChannelName(String(line[line.index(after: space)...]))
            else {
                self.news = .catchUp
                return
            }
            heads[channel] = max(heads[channel] ?? 0, head)
        }
        self.news = .heads(heads)
    }
}

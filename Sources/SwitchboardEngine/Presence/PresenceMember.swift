public import SwitchboardCore

/// One member of a channel's presence: the connection it joined with, its user and the token's `info`.
public struct PresenceMember: Hashable, Sendable {
    /// The connection's id (`cl_…`).
    public let client: String
    /// The user (a client token's `sub`).
    public let user: String
    /// The token's `info` claim.
    public let info: JSONValue?

    /// Makes a member.
    public init(client: String, user: String, info: JSONValue?) {
        self.client = client
        self.user = user
        self.info = info
    }

    /// `{"client":…,"user":…,"info":…}`.
    public var json: String {
        "{\"client\":\(JSONWriter.quoted(client)),\"user\":\(JSONWriter.quoted(user)),\"info\":\(info?.jsonText ?? "null")}"
    }

    /// `{"op":"join"|"leave","channel":…,"member":{…}}`, the frame other members receive.
    func frame(_ op: String, channel: ChannelName) -> String {
        Self.frame(op, channel: channel, memberJSON: json)
    }

    /// The frame of `op` for a member already written as JSON (read back from the journal).
    static func frame(_ op: String, channel: ChannelName, memberJSON: String) -> String {
        "{\"op\":\"\(op)\",\"channel\":\(JSONWriter.quoted(channel.rawValue)),\"member\":\(memberJSON)}"
    }
}

/// A connection that receives the `join` and `leave` frames of the channels it is present in.
public protocol PresenceWatcher: AnyObject, Sendable {
    /// Sends `frame` (JSON text) to the client; called from any thread.
    func presenceChanged(_ frame: String)
}

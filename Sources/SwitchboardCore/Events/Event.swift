/// One stored event, in the canonical form every transport carries.
public struct Event: Hashable, Sendable {
    /// Unique id.
    public let id: EventID
    /// The channel it was published to.
    public let channel: ChannelName
    /// Position in the channel: 1, 2, 3, … without gaps.
    public let offset: Int64
    /// What happened, e.g. `order.created`.
    public let type: EventType
    /// When it was appended.
    public let time: Timestamp
    /// The payload as compact JSON text.
    public let data: String

    /// Makes an event from its parts; `data` must already be compact JSON text.
    public init(id: EventID, channel: ChannelName, offset: Int64, type: EventType, time: Timestamp, data: String) {
        self.id = id
        self.channel = channel
        self.offset = offset
        self.type = type
        self.time = time
        self.data = data
    }

    /// The canonical JSON object: `{"id":…,"channel":…,"offset":…,"type":…,"time":…,"data":…}`.
    public var canonicalJSON: String {
        var out = "{"
        appendFields(into: &out)
        out += "}"
        return out
    }

    /// Appends the canonical members (without braces) to `out`, so that wire messages can add their own.
    public func appendFields(into out: inout String) {
        out.reserveCapacity(out.utf8.count + data.utf8.count + 160)
        out += "\"id\":"
        JSONWriter.writeString(id.rawValue, into: &out)
        out += ",\"channel\":\""
        out += channel.rawValue
        out += "\",\"offset\":"
        out += String(offset)
        out += ",\"type\":"
        JSONWriter.writeString(type.rawValue, into: &out)
        out += ",\"time\":\""
        out += time.description
        out += "\",\"data\":"
        out += data
    }

    /// The receipt a publisher gets: `{"id","channel","offset","time"}`.
    public var receiptJSON: String {
        var out = "{\"id\":"
        JSONWriter.writeString(id.rawValue, into: &out)
        out += ",\"channel\":\"\(channel.rawValue)\",\"offset\":\(offset),\"time\":\"\(time)\"}"
        return out
    }
}

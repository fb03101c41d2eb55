/// The body of a webhook delivery (Standard Webhooks):
/// `{"type":"order.created","timestamp":"<event time>","channel":"orders","offset":42,"data":{…}}`.
public enum WebhookPayload {
    /// The body for `event`, as UTF-8 bytes.
    public static func body(for event: Event) -> [UInt8] {
        var out = "{\"type\":"
        out.reserveCapacity(event.data.utf8.count + 120)
        JSONWriter.writeString(event.type.rawValue, into: &out)
        out += ",\"timestamp\":\""
        out += event.time.description
        out += "\",\"channel\":\""
        out += event.channel.rawValue
        out += "\",\"offset\":"
        out += String(event.offset)
        out += ",\"data\":"
        out += event.data
        out += "}"
        return Array(out.utf8)
    }
}

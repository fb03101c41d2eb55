public import SwitchboardCore

extension EventDraft {
    /// A draft for tests: `channel` and `type` must be valid names, `data` compact JSON text. A `key` is
    /// validated as a publisher's would be, except that the inbound `whin_` keys are let through.
    public static func test(
        _ channel: String,
        type: String = "test.event",
        data: String = "{}",
        key: String? = nil
    ) throws -> EventDraft {
        EventDraft(
            channel: try ChannelName(channel),
            type: try EventType(type),
            data: data,
            idempotencyKey: try key.map { key throws(SwitchboardError) in
                key.hasPrefix(EventID.inboundPrefix) ? EventID(stored: key) : try EventID(callerChosen: key)
            }
        )
    }
}

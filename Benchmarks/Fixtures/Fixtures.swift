public import SwitchboardCore

/// The inputs every benchmark uses: an order event of about 100 bytes of data, as in the load harness.
public enum Fixtures {
    public static let data = #"{"order":"ord_1042","status":"paid","amount":4200,"currency":"eur","items":[1,2,3]}"#

    public static let publishBody = #"{"type":"order.paid","data":\#(data)}"#

    public static let publishCommand =
        #"{"op":"publish","channel":"orders","type":"order.paid","data":\#(data),"ref":7}"#

    public static func event(offset: Int64) -> Event {
        Event(
            // Constant inputs: these initialisers only throw on invalid names.
            id: EventID(stored: "evt_5WqgvxYAbcDeFgHiJkLmNo"),
            channel: (try? ChannelName("orders")) ?? { fatalError("a valid channel name") }(),
            offset: offset,
            type: (try? EventType("order.paid")) ?? { fatalError("a valid type") }(),
            time: Timestamp(millisecondsSinceEpoch: 1_764_000_000_000),
            data: data
        )
    }

    public static func drafts(_ count: Int) throws -> [EventDraft] {
        let channel = try ChannelName("orders")
        let type = try EventType("order.paid")
        return (0..<count).map { _ in EventDraft(channel: channel, type: type, data: data, idempotencyKey: nil) }
    }
}

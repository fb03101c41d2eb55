import Testing

@testable import SwitchboardCore

@Suite("History pages")
struct HistoryPageTests {
    @Test("The HTTP body has channel, events, next, earliest, truncated and head")
    func httpBody() throws {
        let event = Event(
            id: EventID(stored: "evt_a"),
            channel: try ChannelName("orders"),
            offset: 42,
            type: try EventType("order.created"),
            time: Timestamp(millisecondsSinceEpoch: 1_795_389_601_123),
            data: "{}"
        )
        let page = HistoryPage(
            channel: try ChannelName("orders"),
            events: [event],
            next: 42,
            earliest: 1,
            isTruncated: false
        )
        #expect(
            page.json
                == #"{"channel":"orders","events":[{"id":"evt_a","channel":"orders","offset":42,"type":"order.created","time":"2026-11-22T23:20:01.123Z","data":{}}],"next":42,"earliest":1,"truncated":false,"head":42}"#
        )
    }

    @Test("An empty page after truncation says so and still names where to continue")
    func emptyTruncatedPage() throws {
        let page = HistoryPage(channel: try ChannelName("chat:1"), events: [], next: 7, earliest: 8, isTruncated: true)
        let body = try JSONValue.parsing(page.json)
        #expect(
            body
                == .object([
                    ("channel", .string("chat:1")), ("events", .array([])), ("next", .int(7)), ("earliest", .int(8)),
                    ("truncated", .bool(true)), ("head", .int(7)),
                ])
        )
    }
}

import Testing

@testable import SwitchboardCore

@Suite("Webhook payloads")
struct WebhookPayloadTests {
    private func makeEvent(channel: String = "orders", data: String = #"{"total":12.5,"items":[1,2]}"#) throws
        -> Event
    {
        Event(
            id: EventID(stored: "evt_3kTMd9fGx2"),
            channel: try ChannelName(channel),
            offset: 42,
            type: try EventType("order.created"),
            time: try #require(Timestamp(rfc3339: "2026-11-22T23:20:01.123Z")),
            data: data
        )
    }

    @Test("The body is type, timestamp, channel, offset and data, in that order, as compact UTF-8 JSON")
    func exactBytes() throws {
        let body = WebhookPayload.body(for: try makeEvent())
        let expected =
            #"{"type":"order.created","timestamp":"2026-11-22T23:20:01.123Z","channel":"orders","offset":42,"data":{"total":12.5,"items":[1,2]}}"#
        #expect(body == Array(expected.utf8))
    }

    @Test("The body is valid JSON carrying the event's data unchanged", arguments: ["null", "7", #""é""#, "[]", "{}"])
    func carriesData(data: String) throws {
        let parsed = try JSONParser.parse(WebhookPayload.body(for: try makeEvent(data: data)))
        #expect(parsed.memberNames == ["type", "timestamp", "channel", "offset", "data"])
        #expect(parsed["data"] == (try JSONParser.parse(data)))
        #expect(parsed["offset"] == .int(42))
    }

    @Test("Server-written channels are written as they are")
    func serverWrittenChannel() throws {
        let parsed = try JSONParser.parse(WebhookPayload.body(for: try makeEvent(channel: "$presence:chat:1")))
        #expect(parsed["channel"] == .string("$presence:chat:1"))
    }
}

import Testing

@testable import SwitchboardCore

@Suite("Events in canonical form")
struct EventTests {
    private func makeEvent(id: String = "evt_3kTMd9fGx2", data: String = #"{"total":12.5,"items":[1,2]}"#) throws
        -> Event
    {
        Event(
            id: EventID(stored: id),
            channel: try ChannelName("orders"),
            offset: 42,
            type: try EventType("order.created"),
            time: try #require(Timestamp(rfc3339: "2026-11-22T23:20:01.123Z")),
            data: data
        )
    }

    @Test("The canonical JSON has id, channel, offset, type, time and data, in that order")
    func canonicalJSON() throws {
        let event = try makeEvent()
        #expect(
            event.canonicalJSON
                == #"{"id":"evt_3kTMd9fGx2","channel":"orders","offset":42,"type":"order.created","time":"2026-11-22T23:20:01.123Z","data":{"total":12.5,"items":[1,2]}}"#
        )
        let parsed = try JSONValue.parsing(event.canonicalJSON)
        #expect(parsed.memberNames == ["id", "channel", "offset", "type", "time", "data"])
        #expect(parsed["offset"] == .int(42))
        #expect(parsed["data"] == .object([("total", .double(12.5)), ("items", .array([.int(1), .int(2)]))]))
    }

    @Test(
        "Any JSON value can be an event's data",
        arguments: ["null", "true", "7", "-1.5", #""text""#, "[]", #"[1,"a",{}]"#, "{}"]
    )
    func carriesAnyData(data: String) throws {
        let parsed = try JSONValue.parsing(try makeEvent(data: data).canonicalJSON)
        #expect(parsed["data"] == (try JSONParser.parse(data)))
    }

    @Test("A caller-chosen id with quotes and backslashes is escaped in the JSON")
    func escapesCallerChosenID() throws {
        let id = try EventID(callerChosen: #"order"7\x"#)
        let event = Event(
            id: id,
            channel: try ChannelName("orders"),
            offset: 1,
            type: try EventType("t"),
            time: Timestamp(millisecondsSinceEpoch: 0),
            data: "null"
        )
        #expect(try JSONValue.parsing(event.canonicalJSON)["id"] == .string(#"order"7\x"#))
        #expect(try JSONValue.parsing(event.receiptJSON)["id"] == .string(#"order"7\x"#))
    }

    @Test("A type with backslashes (a Laravel class name) is escaped in the JSON and in a webhook's body")
    func escapesBackslashesInTypes() throws {
        let event = Event(
            id: EventID(stored: "evt_1"),
            channel: try ChannelName("orders"),
            offset: 1,
            type: try EventType(#"App\Events\OrderShipped"#),
            time: Timestamp(millisecondsSinceEpoch: 0),
            data: "{}"
        )
        #expect(event.canonicalJSON.contains(#""type":"App\\Events\\OrderShipped""#))
        #expect(try JSONValue.parsing(event.canonicalJSON)["type"] == .string(#"App\Events\OrderShipped"#))
        let body = try JSONParser.parse(WebhookPayload.body(for: event))
        #expect(body["type"] == .string(#"App\Events\OrderShipped"#))
        #expect(body.memberNames == ["type", "timestamp", "channel", "offset", "data"])
    }

    @Test("The publish receipt carries id, channel, offset and time")
    func receiptJSON() throws {
        let event = try makeEvent()
        #expect(
            event.receiptJSON
                == #"{"id":"evt_3kTMd9fGx2","channel":"orders","offset":42,"time":"2026-11-22T23:20:01.123Z"}"#
        )
    }

    @Test("Fields can be embedded in a larger message")
    func appendsFields() throws {
        var out = #"{"op":"event","#
        try makeEvent().appendFields(into: &out)
        out += "}"
        let parsed = try JSONValue.parsing(out)
        #expect(parsed.memberNames == ["op", "id", "channel", "offset", "type", "time", "data"])
    }
}

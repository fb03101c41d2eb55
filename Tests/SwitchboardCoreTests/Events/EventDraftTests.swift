import Testing

@testable import SwitchboardCore

@Suite("Publish bodies")
struct EventDraftTests {
    private func parse(
        _ body: String,
        channel: String? = "orders",
        headerKey: String? = nil,
        limits: Limits = Limits()
    ) throws -> EventDraft {
        try EventDraft.parse(
            try JSONParser.parse(body),
            channel: try channel.map { name throws(SwitchboardError) in try ChannelName(name) },
            headerKey: headerKey,
            limits: limits
        )
    }

    private func refusal(
        _ body: String,
        channel: String? = "orders",
        headerKey: String? = nil,
        limits: Limits = Limits()
    ) -> SwitchboardError? {
        #expect(throws: SwitchboardError.self) {
            try parse(body, channel: channel, headerKey: headerKey, limits: limits)
        }
    }

    @Test("A body with type and data publishes to the channel in the URL, data kept as compact JSON")
    func parsesBody() throws {
        let draft = try parse(#"{ "type" : "order.created", "data" : { "total" : 12.5, "items" : [ 1, 2 ] } }"#)
        #expect(draft.channel == (try ChannelName("orders")))
        #expect(draft.type == (try EventType("order.created")))
        #expect(draft.data == #"{"total":12.5,"items":[1,2]}"#)
        #expect(draft.idempotencyKey == nil)
    }

    @Test("Any JSON value is accepted as data, null included", arguments: ["null", "false", "0", #""s""#, "[]", "{}"])
    func acceptsAnyData(data: String) throws {
        #expect(try parse(#"{"type":"t","data":\#(data)}"#).data == data)
    }

    @Test("A batch item names its own channel")
    func batchItemNamesChannel() throws {
        let draft = try parse(#"{"channel":"chat:1","type":"message","data":{"text":"hi"}}"#, channel: nil)
        #expect(draft.channel == (try ChannelName("chat:1")))
    }

    @Test(
        "A batch item without a valid channel is refused as invalid_channel",
        arguments: [
            #"{"type":"t","data":1}"#, #"{"channel":7,"type":"t","data":1}"#, #"{"channel":"a b","type":"t","data":1}"#,
            #"{"channel":"","type":"t","data":1}"#,
        ]
    )
    func refusesBatchItemWithoutChannel(body: String) {
        #expect(refusal(body, channel: nil)?.code == .invalidChannel)
    }

    @Test(
        "A missing, non-string or malformed type is refused as invalid_type",
        arguments: [
            #"{"data":1}"#, #"{"type":1,"data":1}"#, #"{"type":null,"data":1}"#, #"{"type":"","data":1}"#,
            #"{"type":"a=b","data":1}"#, #"{"type":"order created","data":1}"#,
        ]
    )
    func refusesBadType(body: String) {
        #expect(refusal(body)?.code == .invalidType)
    }

    @Test("A body without data is refused as bad_request")
    func refusesMissingData() {
        #expect(refusal(#"{"type":"t"}"#)?.code == .badRequest)
    }

    @Test("A body that is not a JSON object is refused as bad_request", arguments: ["[]", #""text""#, "null", "1"])
    func refusesNonObject(body: String) {
        #expect(refusal(body)?.code == .badRequest)
    }

    @Test("Data of exactly 64 KiB is accepted by default")
    func acceptsDataAtLimit() throws {
        #expect(Limits().maximumDataBytes == 65_536)
        let text = String(repeating: "x", count: 65_536 - 2)
        let draft = try parse(#"{"type":"t","data":"\#(text)"}"#)
        #expect(draft.data.utf8.count == 65_536)
    }

    @Test("Data one byte over 64 KiB is refused as too_large")
    func refusesDataOverLimit() {
        let text = String(repeating: "x", count: 65_536 - 1)
        let error = refusal(#"{"type":"t","data":"\#(text)"}"#)
        #expect(error?.code == .tooLarge)
        #expect(error?.code.httpStatus == 413)
    }

    @Test("The limit is configurable and counts UTF-8 bytes of the compact JSON, not characters or white space")
    func limitCountsCompactBytes() throws {
        let limits = Limits(maximumDataBytes: 6)
        #expect(try parse(#"{"type":"t","data":"éé"}"#, limits: limits).data == #""éé""#)
        #expect(refusal(#"{"type":"t","data":"ééé"}"#, limits: limits)?.code == .tooLarge)
        #expect(try parse(#"{"type":"t","data":[ 1 , 2 ]}"#, limits: limits).data == "[1,2]")
        #expect(refusal(#"{"type":"t","data":[1,2,3]}"#, limits: limits)?.code == .tooLarge)
    }

    @Test("A body id becomes the idempotency key")
    func bodyIDIsKey() throws {
        let draft = try parse(#"{"type":"t","data":1,"id":"order-42"}"#)
        #expect(draft.idempotencyKey == (try EventID(callerChosen: "order-42")))
    }

    @Test("An Idempotency-Key header wins over a body id")
    func headerKeyWins() throws {
        let draft = try parse(#"{"type":"t","data":1,"id":"from-body"}"#, headerKey: "from-header")
        #expect(draft.idempotencyKey == (try EventID(callerChosen: "from-header")))
    }

    @Test(
        "A malformed idempotency key is refused as bad_request",
        arguments: [
            (#"{"type":"t","data":1,"id":7}"#, String?.none),
            (#"{"type":"t","data":1,"id":null}"#, nil),
            (#"{"type":"t","data":1,"id":""}"#, nil),
            (#"{"type":"t","data":1,"id":"has space"}"#, nil),
            (#"{"type":"t","data":1}"#, ""),
            (#"{"type":"t","data":1}"#, String(repeating: "k", count: 201)),
        ]
    )
    func refusesMalformedKey(body: String, headerKey: String?) {
        #expect(refusal(body, headerKey: headerKey)?.code == .badRequest)
    }
}

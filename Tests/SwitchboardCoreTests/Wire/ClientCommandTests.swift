import Testing

@testable import SwitchboardCore

@Suite("WebSocket client commands")
struct ClientCommandTests {
    private func decode(_ text: String, limits: Limits = Limits()) throws -> ClientCommand.Envelope {
        try ClientCommand.decode(Array(text.utf8), limits: limits)
    }

    private func rejection(_ text: String, limits: Limits = Limits()) -> ClientCommand.Rejection? {
        #expect(throws: ClientCommand.Rejection.self) { try decode(text, limits: limits) }
    }

    @Test("Each op of the protocol decodes to its command")
    func decodesEveryOp() throws {
        let orders = try ChannelName("orders")
        let chat = try ChannelName("chat:1")
        #expect(try decode(#"{"op":"auth","token":"eyJ.x.y"}"#).command == .auth(token: "eyJ.x.y"))
        #expect(
            try decode(#"{"op":"subscribe","channel":"orders","since":41}"#).command
                == .subscribe(channel: orders, since: 41)
        )
        #expect(
            try decode(#"{"op":"subscribe","channel":"orders"}"#).command == .subscribe(channel: orders, since: nil)
        )
        #expect(
            try decode(#"{"op":"subscribe","channel":"orders","since":null}"#).command
                == .subscribe(channel: orders, since: nil)
        )
        #expect(
            try decode(#"{"op":"subscribe","channel":"orders","since":0}"#).command
                == .subscribe(channel: orders, since: 0)
        )
        #expect(try decode(#"{"op":"unsubscribe","channel":"orders"}"#).command == .unsubscribe(channel: orders))
        #expect(try decode(#"{"op":"presence","channel":"chat:1"}"#).command == .presence(channel: chat))
        #expect(
            try decode(#"{"op":"history","channel":"orders","after":0,"limit":100}"#).command
                == .history(channel: orders, after: 0, limit: 100)
        )
        #expect(
            try decode(#"{"op":"history","channel":"orders"}"#).command
                == .history(channel: orders, after: 0, limit: nil)
        )
        #expect(try decode(#"{"op":"ping"}"#).command == .ping)
    }

    @Test("A publish carries channel, type, data and an optional id")
    func decodesPublish() throws {
        let envelope = try decode(
            #"{"op":"publish","channel":"chat:1","type":"message","data":{"text":"hi"},"id":"m-1"}"#
        )
        #expect(
            envelope.command
                == .publish(
                    EventDraft(
                        channel: try ChannelName("chat:1"),
                        type: try EventType("message"),
                        data: #"{"text":"hi"}"#,
                        idempotencyKey: try EventID(callerChosen: "m-1")
                    )
                )
        )
    }

    @Test(
        "A scalar ref is echoed as given",
        arguments: [
            (#""r1""#, JSONValue.string("r1")), ("7", .int(7)), ("1.5", .double(1.5)), ("true", .bool(true)),
            ("null", .null),
        ]
    )
    func keepsScalarRef(text: String, ref: JSONValue) throws {
        #expect(try decode(#"{"op":"ping","ref":\#(text)}"#).ref == ref)
    }

    @Test("A ref that is an array or object is not echoed")
    func dropsCompositeRef() throws {
        #expect(try decode(#"{"op":"ping","ref":[1]}"#).ref == nil)
        #expect(try decode(#"{"op":"ping","ref":{"a":1}}"#).ref == nil)
        #expect(try decode(#"{"op":"ping"}"#).ref == nil)
    }

    @Test("An unknown op is refused as unknown_op, with the ref echoed")
    func refusesUnknownOp() {
        let rejection = rejection(#"{"op":"teleport","ref":"r9"}"#)
        #expect(rejection?.error.code == .unknownOp)
        #expect(rejection?.ref == .string("r9"))
        #expect(rejection?.error.detail.contains("teleport") == true)
    }

    @Test("Op names are case-sensitive")
    func opIsCaseSensitive() {
        #expect(rejection(#"{"op":"PING"}"#)?.error.code == .unknownOp)
    }

    @Test("A command without a string op is refused as bad_request, with the ref echoed")
    func refusesMissingOp() {
        for text in [#"{"ref":5}"#, #"{"op":1,"ref":5}"#, #"{"op":null,"ref":5}"#] {
            let rejection = rejection(text)
            #expect(rejection?.error.code == .badRequest, "\(text)")
            #expect(rejection?.ref == .int(5), "\(text)")
        }
    }

    @Test(
        "A frame that is not a JSON object is refused as bad_request",
        arguments: ["", "not json", "{", #"["op"]"#, #""ping""#, "null"]
    )
    func refusesNonObjects(text: String) {
        let rejection = rejection(text)
        #expect(rejection?.error.code == .badRequest)
        #expect(rejection?.ref == nil)
    }

    @Test(
        "Field errors carry the code the protocol gives them, and the ref",
        arguments: [
            (#"{"op":"auth","ref":1}"#, SwitchboardError.Code.badRequest),
            (#"{"op":"auth","token":5,"ref":1}"#, .badRequest),
            (#"{"op":"subscribe","ref":1}"#, .invalidChannel),
            (#"{"op":"subscribe","channel":7,"ref":1}"#, .invalidChannel),
            (#"{"op":"subscribe","channel":"a b","ref":1}"#, .invalidChannel),
            (#"{"op":"subscribe","channel":"orders","since":-1,"ref":1}"#, .badRequest),
            (#"{"op":"subscribe","channel":"orders","since":"5","ref":1}"#, .badRequest),
            (#"{"op":"subscribe","channel":"orders","since":1.5,"ref":1}"#, .badRequest),
            (#"{"op":"unsubscribe","ref":1}"#, .invalidChannel),
            (#"{"op":"presence","channel":"$","ref":1}"#, .invalidChannel),
            (#"{"op":"history","channel":"orders","after":-5,"ref":1}"#, .badRequest),
            (#"{"op":"history","channel":"orders","limit":0,"ref":1}"#, .badRequest),
            (#"{"op":"history","channel":"orders","limit":"10","ref":1}"#, .badRequest),
            (#"{"op":"publish","type":"t","data":1,"ref":1}"#, .invalidChannel),
            (#"{"op":"publish","channel":"chat:1","type":"a=b","data":1,"ref":1}"#, .invalidType),
            (#"{"op":"publish","channel":"chat:1","type":"t","ref":1}"#, .badRequest),
        ]
    )
    func refusesBadFields(text: String, code: SwitchboardError.Code) {
        let rejection = rejection(text)
        #expect(rejection?.error.code == code)
        #expect(rejection?.ref == .int(1))
    }

    @Test("A history limit above the server's page size is capped")
    func capsHistoryLimit() throws {
        let limits = Limits(maximumHistoryPage: 50)
        let command = try decode(#"{"op":"history","channel":"orders","after":3,"limit":5000}"#, limits: limits).command
        #expect(command == .history(channel: try ChannelName("orders"), after: 3, limit: 50))
    }

    @Test("A published event's data is held to the data limit")
    func publishRespectsDataLimit() {
        let limits = Limits(maximumDataBytes: 4)
        let rejection = rejection(
            #"{"op":"publish","channel":"chat:1","type":"t","data":"long","ref":"p"}"#,
            limits: limits
        )
        #expect(rejection?.error.code == .tooLarge)
        #expect(rejection?.ref == .string("p"))
    }
}

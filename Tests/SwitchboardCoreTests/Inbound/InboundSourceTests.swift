import Testing

@testable import SwitchboardCore

/// Sources as configured and the events their requests become.
@Suite("Inbound sources")
struct InboundSourceTests {
    /// The event `request` becomes; fails the test when it is not one.
    private static func extract(_ source: InboundSource, _ request: InboundRequest, _ maximumDataBytes: Int) throws
        -> InboundSource.Extracted
    {
        guard case .event(let extracted) = try source.interpret(request, maximumDataBytes: maximumDataBytes) else {
            throw SwitchboardError(.badRequest, "not an event")
        }
        return extracted
    }

    private static func parse(_ text: String, base: InboundSource? = nil) throws -> InboundSource {
        try InboundSource(json: try JSONParser.parse(text), base: base)
    }

    @Test("Each scheme brings its providers' type and delivery-id fields by default")
    func defaults() throws {
        let github = try Self.parse(#"{"name":"github","verify":"github","secrets":["s"],"channel":"github"}"#)
        #expect(github.typeFrom == .header("X-GitHub-Event"))
        #expect(github.idFrom == .header("X-GitHub-Delivery"))
        let stripe = try Self.parse(#"{"name":"stripe","verify":"stripe","secrets":["whsec_x"],"channel":"stripe"}"#)
        #expect(stripe.typeFrom == .json(["type"]))
        #expect(stripe.idFrom == .json(["id"]))
        #expect(stripe.toleranceSeconds == 300)
        let custom = try Self.parse(
            #"{"name":"acme","verify":"hmac","hmac":{"header":"X-Acme-Sig","algorithm":"sha1","encoding":"base64"},"secrets":["s"],"channel":"acme","typeFrom":"json:event.kind","idFrom":"header:X-Acme-Id","defaultType":"acme.event","maxBodyBytes":4096}"#
        )
        #expect(custom.scheme == .hmac(HMACHeaderRule(header: "X-Acme-Sig", algorithm: .sha1, encoding: .base64)))
        #expect(custom.typeFrom == .json(["event", "kind"]))
        #expect(custom.json["verify"] == .string("hmac"))
        #expect(custom.json["hmac"]?["algorithm"] == .string("sha1"))
        #expect(custom.json["secrets"] == .int(1), "the API shows how many secrets, never them")
    }

    @Test(
        "Bad sources are refused with a clear reason",
        arguments: [
            #"{"verify":"github","secrets":["s"],"channel":"c"}"#,
            #"{"name":"Bad Name","verify":"github","secrets":["s"],"channel":"c"}"#,
            #"{"name":"x","verify":"md5","secrets":["s"],"channel":"c"}"#,
            #"{"name":"x","verify":"github","secrets":[],"channel":"c"}"#,
            #"{"name":"x","verify":"none","secrets":["s"],"channel":"c"}"#,
            #"{"name":"x","verify":"github","secrets":["s"],"channel":"$system"}"#,
            #"{"name":"x","verify":"github","secrets":["s"],"channel":"bad channel"}"#,
            #"{"name":"x","verify":"standard","secrets":["not base64 ***"],"channel":"c"}"#,
            #"{"name":"x","verify":"hmac","secrets":["s"],"channel":"c"}"#,
            #"{"name":"x","verify":"github","hmac":{"header":"h"},"secrets":["s"],"channel":"c"}"#,
            #"{"name":"x","verify":"github","secrets":["s"],"channel":"c","typeFrom":"body:type"}"#,
            #"{"name":"x","verify":"github","secrets":["s"],"channel":"c","maxBodyBytes":0}"#,
            #"{"name":"x","verify":"github","secrets":["s"],"channel":"c","colour":"red"}"#,
        ]
    )
    func refusals(_ text: String) throws {
        #expect(throws: SwitchboardError.self) { try Self.parse(text) }
    }

    @Test("A PATCH keeps what it does not name and cannot rename")
    func patch() throws {
        let base = try Self.parse(#"{"name":"github","verify":"github","secrets":["old"],"channel":"github"}"#)
        let rotated = try Self.parse(#"{"secrets":["new","old"]}"#, base: base)
        #expect(rotated.secrets == ["new", "old"])
        #expect(rotated.channel == base.channel)
        #expect(rotated.scheme == .github)
        let renamed = #expect(throws: SwitchboardError.self) { try Self.parse(#"{"name":"other"}"#, base: base) }
        #expect(renamed?.code == .conflict)
        // A channel that is not a string is refused, as on create, not ignored.
        #expect(throws: SwitchboardError.self) { try Self.parse(#"{"channel":{}}"#, base: base) }
        #expect(throws: SwitchboardError.self) { try Self.parse(#"{"channel":null}"#, base: base) }
        #expect(throws: SwitchboardError.self) {
            try Self.parse(#"{"verify":"hmac","secrets":["s"],"hmac":{"header":{}}}"#, base: base)
        }

        // Changing the scheme brings the new scheme's defaults where the old defaults were in use.
        let moved = try Self.parse(#"{"verify":"stripe","secrets":["whsec_x"]}"#, base: base)
        #expect(moved.typeFrom == .json(["type"]))
        #expect(moved.idFrom == .json(["id"]))
    }

    @Test("A PATCH of an hmac rule keeps the fields it does not name, and custom fields survive a scheme change")
    func patchKeepsCustomFields() throws {
        let acme = try Self.parse(
            #"{"name":"acme","verify":"hmac","hmac":{"header":"X-Sig","algorithm":"sha1","encoding":"base64","prefix":"v="},"secrets":["s"],"channel":"acme","typeFrom":"json:event","idFrom":"header:X-Delivery"}"#
        )
        let renamed = try Self.parse(#"{"hmac":{"header":"X-Sig-2"}}"#, base: acme)
        #expect(
            renamed.scheme
                == .hmac(HMACHeaderRule(header: "X-Sig-2", algorithm: .sha1, encoding: .base64, prefix: "v="))
        )
        #expect(renamed.typeFrom == .json(["event"]))
        #expect(renamed.idFrom == .header("X-Delivery"))
        let github = try Self.parse(#"{"verify":"github"}"#, base: acme)
        #expect(github.idFrom == .header("X-Delivery"), "a custom idFrom is kept")
    }

    @Test("A Svix-signed request is deduplicated on svix-id, never on an unsigned webhook-id beside it")
    func svixDeliveryID() throws {
        let standard = try Self.parse(#"{"name":"svix","verify":"standard","secrets":["whsec_AAAA"],"channel":"svix"}"#)
        let request = InboundRequest(
            headers: [
                (name: "svix-id", value: "msg_signed"), (name: "svix-signature", value: "v1,x"),
                (name: "webhook-id", value: "attacker-chosen"),
            ],
            body: Array("{}".utf8)
        )
        #expect(try Self.extract(standard, request, 100).deliveryID == "msg_signed")
    }

    @Test("A request becomes an event: type and id from their fields, body as data, a stable idempotency key")
    func extraction() throws {
        let shopify = try Self.parse(#"{"name":"shop","verify":"shopify","secrets":["s"],"channel":"shop"}"#)
        let request = InboundRequest(
            headers: [
                (name: "X-Shopify-Topic", value: "orders/create"), (name: "X-Shopify-Webhook-Id", value: "b54557e4"),
            ],
            body: Array(#"{"id": 1}"#.utf8)
        )
        let extracted = try Self.extract(shopify, request, 65_536)
        #expect(extracted.draft.type.rawValue == "orders.create")
        #expect(extracted.draft.data == #"{"id":1}"#)
        #expect(extracted.deliveryID == "b54557e4")
        let again = try Self.extract(shopify, request, 65_536)
        #expect(extracted.draft.idempotencyKey == again.draft.idempotencyKey)
        #expect(extracted.draft.idempotencyKey?.rawValue.hasPrefix("whin_shop_") == true)

        // A form body (Slack's slash commands) is kept as a JSON string; a missing type falls back.
        let slack = try Self.parse(#"{"name":"slack","verify":"slack","secrets":["s"],"channel":"slack"}"#)
        let form = InboundRequest(headers: [], body: Array("token=x&text=hi".utf8))
        let formEvent = try Self.extract(slack, form, 65_536)
        #expect(formEvent.draft.data == #""token=x&text=hi""#)
        #expect(formEvent.draft.type.rawValue == "webhook.received")
        #expect(formEvent.deliveryID == nil)
        #expect(formEvent.draft.idempotencyKey == nil)

        #expect(throws: SwitchboardError.self) { try Self.extract(shopify, request, 4) }

        // A Standard Webhooks source deduplicates Svix's svix-id as it does webhook-id.
        let standard = try Self.parse(#"{"name":"svix","verify":"standard","secrets":["whsec_AAAA"],"channel":"svix"}"#)
        for prefix in ["webhook", "svix"] {
            let signed = InboundRequest(
                headers: [(name: "\(prefix)-id", value: "msg_1"), (name: "\(prefix)-signature", value: "v1,x")],
                body: Array("{}".utf8)
            )
            #expect(try Self.extract(standard, signed, 100).deliveryID == "msg_1")
        }
    }
}

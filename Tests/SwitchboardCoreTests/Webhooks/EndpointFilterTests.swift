import Testing

@testable import SwitchboardCore

@Suite("Endpoint filters")
struct EndpointFilterTests {
    private func filter(channels: [String], types: [String] = []) throws -> EndpointFilter {
        try EndpointFilter(
            channels: channels.map { text throws(SwitchboardError) in try NamePattern(text) },
            types: types.map { text throws(SwitchboardError) in try NamePattern(text) }
        )
    }

    @Test(
        "Channel patterns match exactly or by prefix, any of them sufficing",
        arguments: [
            (["orders"], "orders", true),
            (["orders"], "orders2", false),
            (["orders"], "order", false),
            (["chat:*"], "chat:room:1", true),
            (["chat:*"], "chat", false),
            (["chat:*"], "chatter", false),
            (["orders", "chat:*"], "chat:7", true),
            (["orders", "chat:*"], "orders", true),
            (["orders", "chat:*"], "billing", false),
            (["*"], "anything:at:all", true),
        ]
    )
    func matchesChannels(channels: [String], channel: String, expected: Bool) throws {
        #expect(try filter(channels: channels).matches(channel: channel, type: "order.created") == expected)
    }

    @Test("No type patterns means every type")
    func emptyTypesMatchEverything() throws {
        let all = try filter(channels: ["orders"])
        for type in ["order.created", "x", "user:joined"] {
            #expect(all.matches(channel: "orders", type: type))
        }
        #expect(!all.matches(channel: "billing", type: "order.created"))
    }

    @Test(
        "Type patterns restrict the types, exactly or by prefix",
        arguments: [
            ("order.created", true), ("order.paid", true), ("order", false), ("user.created", false),
            ("invoice.sent", true), ("invoice.sent.late", false),
        ]
    )
    func matchesTypes(type: String, expected: Bool) throws {
        let typed = try filter(channels: ["*"], types: ["order.*", "invoice.sent"])
        #expect(typed.matches(channel: "orders", type: type) == expected)
    }

    @Test("Both the channel and the type must match")
    func needsBoth() throws {
        let both = try filter(channels: ["orders"], types: ["order.created"])
        #expect(both.matches(channel: "orders", type: "order.created"))
        #expect(!both.matches(channel: "orders", type: "order.paid"))
        #expect(!both.matches(channel: "billing", type: "order.created"))
    }

    @Test(
        "Server-written channels match only patterns that start with $; * means the application's channels",
        arguments: [
            (["*"], "$system", false),
            (["*"], "$presence:chat:1", false),
            (["orders", "*"], "$system", false),
            (["$system"], "$system", true),
            (["$*"], "$system", true),
            (["$*"], "$presence:chat:1", true),
            (["$presence:*"], "$presence:chat:1", true),
            (["$presence:*"], "$system", false),
            (["$system"], "system", false),
            (["$*"], "orders", false),
            (["*", "$system"], "$system", true),
        ]
    )
    func serverWrittenChannels(channels: [String], channel: String, expected: Bool) throws {
        #expect(try filter(channels: channels).matches(channel: channel, type: "presence.joined") == expected)
    }

    @Test("An endpoint without channel patterns is refused as bad_request")
    func refusesEmptyChannels() {
        let error = #expect(throws: SwitchboardError.self) {
            try EndpointFilter(channels: [], types: [NamePattern("order.*")])
        }
        #expect(error?.code == .badRequest)
    }

    @Test("A pattern's fixed part is the name, or the prefix before *")
    func fixedPart() throws {
        #expect(try NamePattern("chat:*").fixedPart == "chat:")
        #expect(try NamePattern("chat:*").isPrefixPattern)
        #expect(try NamePattern("orders").fixedPart == "orders")
        #expect(try !NamePattern("orders").isPrefixPattern)
        #expect(try NamePattern("*").fixedPart == "")
    }
}

import Testing

@testable import SwitchboardCore

@Suite("Channel and type patterns")
struct NamePatternTests {
    @Test(
        "A pattern is an exact name or a prefix ending in *",
        arguments: [
            ("orders", "orders", true),
            ("orders", "orders2", false),
            ("orders", "order", false),
            ("orders", "Orders", false),
            ("chat:*", "chat:1", true),
            ("chat:*", "chat:room:7", true),
            ("chat:*", "chat:", true),
            ("chat:*", "chat", false),
            ("chat:*", "chatter:1", false),
            ("*", "orders", true),
            ("*", "$system", true),
            ("order.*", "order.created", true),
            ("order.*", "orders.created", false),
            ("order*", "orders", true),
            ("$presence:*", "$presence:chat:1", true),
            ("$presence:*", "presence:chat:1", false),
        ]
    )
    func matches(pattern: String, name: String, expected: Bool) throws {
        #expect(try NamePattern(pattern).matches(name) == expected)
    }

    @Test(
        "Malformed patterns are refused as bad_request",
        arguments: [
            "", "*chat", "a*b", "**", "a**", "*:*", String(repeating: "x", count: 202), "x admin", "chat@1", "a$",
            "caf\u{e9}", "tab\there", "🏻",
        ]
    )
    func refusesMalformedPatterns(pattern: String) {
        let error = #expect(throws: SwitchboardError.self) { try NamePattern(pattern) }
        #expect(error?.code == .badRequest)
    }

    @Test("A prefix as long as the longest name, followed by *, is accepted")
    func acceptsLongestPrefix() throws {
        let prefix = String(repeating: "x", count: 200)
        let pattern = try NamePattern(prefix + "*")
        #expect(pattern.matches(prefix))
    }

    @Test("A pattern prints as written")
    func printsAsWritten() throws {
        #expect(try NamePattern("chat:*").description == "chat:*")
        #expect(try NamePattern("orders").rawValue == "orders")
    }

    @Test("A type pattern may hold a type's backslash; a channel pattern (and so a scope) may not")
    func backslashOnlyInTypePatterns() throws {
        let laravel = try NamePattern(#"App\Events\*"#, ofTypes: true)
        #expect(laravel.matches(#"App\Events\OrderShipped"#))
        #expect(!laravel.matches("App.Events.OrderShipped"))
        let error = #expect(throws: SwitchboardError.self) { try NamePattern(#"App\Events\*"#) }
        #expect(error?.code == .badRequest)
        #expect(throws: SwitchboardError.self) { try Scope(#"publish:a\b"#) }
    }

    @Test("A journal's pattern may be longer by its prefix")
    func journalPatternsAreLongerByTheirPrefix() throws {
        let name = String(repeating: "n", count: 200) + "*"
        #expect(try NamePattern("$presence:" + name).rawValue.utf8.count == 211)
        #expect(try NamePattern("$occupancy:" + name).rawValue.utf8.count == 212)
        #expect(throws: SwitchboardError.self) { try NamePattern("$other:" + name) }
    }
}

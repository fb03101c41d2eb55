import Testing

@testable import SwitchboardCore

@Suite("API key scopes")
struct ScopeTests {
    @Test(
        "Scopes are admin, publish:<pattern> or subscribe:<pattern>, and print as written",
        arguments: ["admin", "publish:orders", "publish:*", "subscribe:chat:*", "subscribe:$presence:*"]
    )
    func parsesAndPrints(text: String) throws {
        #expect(try Scope(text).description == text)
    }

    @Test("A scope's pattern is everything after the first colon")
    func patternKeepsColons() throws {
        #expect(try Scope("subscribe:chat:*") == .subscribe(try NamePattern("chat:*")))
        #expect(try Scope("publish:orders") == .publish(try NamePattern("orders")))
        #expect(try Scope("admin") == .admin)
    }

    @Test(
        "Anything else is refused as bad_request",
        arguments: [
            "", "Admin", "admin:", "read:orders", "publish", "publish:", "subscribe:", "publish:a*b", "publish orders",
        ]
    )
    func refusesOthers(text: String) {
        let error = #expect(throws: SwitchboardError.self) { try Scope(text) }
        #expect(error?.code == .badRequest)
    }

    @Test("A key's principal collects its scopes")
    func principalFromScopes() throws {
        let principal = Principal(scopes: [
            try Scope("publish:orders"), try Scope("subscribe:chat:*"), try Scope("publish:billing"),
        ])
        #expect(!principal.isAdmin)
        #expect(!principal.isAnonymous)
        #expect(principal.user == nil)
        #expect(principal.publishPatterns == [try NamePattern("orders"), try NamePattern("billing")])
        #expect(principal.subscribePatterns == [try NamePattern("chat:*")])
        #expect(Principal(scopes: [.admin]).isAdmin)
        #expect(Principal.anonymous.isAnonymous)
    }
}

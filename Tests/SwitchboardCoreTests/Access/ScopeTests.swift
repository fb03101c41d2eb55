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

    @Test("A scope cannot smuggle a second scope: a pattern holds no space, so stored scopes split back as written")
    func noSecondScopeInAPattern() throws {
        for text in ["publish:x admin", "subscribe:* admin", "publish:a\tadmin"] {
            #expect(throws: SwitchboardError.self) { try Scope(text) }
        }
        let scopes = [try Scope("publish:orders.*"), try Scope("subscribe:$presence:*"), Scope.admin]
        let stored = scopes.map(\.description).joined(separator: " ")
        #expect(try stored.split(separator: " ").map { try Scope(String($0)) } == scopes)
    }

    @Test("A scope's prefix is read as bytes: a combining mark after the colon does not hide it")
    func prefixAsBytes() {
        let error = #expect(throws: SwitchboardError.self) { try Scope("publish:\u{1F3FB}x") }
        #expect(error?.detail.contains("pattern") == true)
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

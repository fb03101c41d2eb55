import Testing

@testable import SwitchboardCore

@Suite("Access policy")
struct AccessPolicyTests {
    private let policy = AccessPolicy(
        namespaces: NamespacePolicies(
            named: [
                "lobby": NamespacePolicy(isPublic: true, allowsClientPublish: true),
                "news": NamespacePolicy(isPublic: true),
                "chat": NamespacePolicy(allowsClientPublish: true),
            ]
        ),
        isDevelopmentMode: false
    )
    private let development = AccessPolicy(namespaces: NamespacePolicies(), isDevelopmentMode: true)
    private let admin = Principal(scopes: [.admin])

    private func key(_ scopes: String...) throws -> Principal {
        Principal(scopes: try scopes.map { text throws(SwitchboardError) in try Scope(text) })
    }

    private func channel(_ name: String) throws -> ChannelName {
        try ChannelName(name)
    }

    private func code(_ body: () throws(SwitchboardError) -> Void) -> SwitchboardError.Code? {
        refusalCode(body)
    }

    // MARK: Subscribing

    @Test("Anyone may read a public namespace")
    func publicNamespaceIsReadable() throws {
        let news = try channel("news:today")
        #expect(code { () throws(SwitchboardError) in try policy.authorizeSubscribe(.anonymous, to: news) } == nil)
    }

    @Test("Reading a private channel without credentials is unauthorized")
    func anonymousReadIsUnauthorized() throws {
        let orders = try channel("orders")
        #expect(
            code { () throws(SwitchboardError) in try policy.authorizeSubscribe(.anonymous, to: orders) }
                == .unauthorized
        )
    }

    @Test("Credentials whose patterns do not cover a channel are forbidden from reading it")
    func uncoveredReadIsForbidden() throws {
        let principal = try key("subscribe:chat:*")
        let orders = try channel("orders")
        let chat = try channel("chat:1")
        #expect(
            code { () throws(SwitchboardError) in try policy.authorizeSubscribe(principal, to: orders) } == .forbidden
        )
        #expect(code { () throws(SwitchboardError) in try policy.authorizeSubscribe(principal, to: chat) } == nil)
    }

    @Test("A token's subscribe patterns allow reading the channels they match")
    func tokenPatternsAllowReading() throws {
        let user = Principal(
            user: "u1",
            subscribePatterns: [try NamePattern("orders"), try NamePattern("$presence:chat:*")]
        )
        for name in ["orders", "$presence:chat:1"] {
            let target = try channel(name)
            #expect(
                code { () throws(SwitchboardError) in try policy.authorizeSubscribe(user, to: target) } == nil,
                "\(name)"
            )
        }
        let other = try channel("orders2")
        #expect(code { () throws(SwitchboardError) in try policy.authorizeSubscribe(user, to: other) } == .forbidden)
    }

    @Test("An admin, and anyone in development mode, may read any channel, server-written ones included")
    func adminAndDevelopmentRead() throws {
        for name in ["orders", "$system", "$presence:chat:1"] {
            let target = try channel(name)
            #expect(code { () throws(SwitchboardError) in try policy.authorizeSubscribe(admin, to: target) } == nil)
            #expect(
                code { () throws(SwitchboardError) in try development.authorizeSubscribe(.anonymous, to: target) }
                    == nil
            )
        }
    }

    // MARK: Publishing over the HTTP API

    @Test("A key with a matching publish scope may publish over the API; others are forbidden")
    func apiPublishFollowsScopes() throws {
        let billing = try key("publish:orders", "subscribe:chat:*")
        let orders = try channel("orders")
        let chat = try channel("chat:1")
        #expect(code { () throws(SwitchboardError) in try policy.authorizeAPIPublish(billing, to: orders) } == nil)
        #expect(code { () throws(SwitchboardError) in try policy.authorizeAPIPublish(billing, to: chat) } == .forbidden)
        #expect(code { () throws(SwitchboardError) in try policy.authorizeAPIPublish(admin, to: chat) } == nil)
    }

    @Test("Publishing over the API without a key is unauthorized, even to a public namespace")
    func anonymousAPIPublishIsUnauthorized() throws {
        for name in ["orders", "news:today", "lobby:1"] {
            let target = try channel(name)
            #expect(
                code { () throws(SwitchboardError) in try policy.authorizeAPIPublish(.anonymous, to: target) }
                    == .unauthorized
            )
        }
    }

    @Test("Nobody publishes to a server-written channel: not an admin, not a wildcard key, not development mode")
    func serverWrittenChannelsRefusePublish() throws {
        let wildcard = try key("publish:*")
        for name in ["$system", "$presence:chat:1"] {
            let target = try channel(name)
            #expect(
                code { () throws(SwitchboardError) in try policy.authorizeAPIPublish(admin, to: target) } == .forbidden
            )
            #expect(
                code { () throws(SwitchboardError) in try policy.authorizeAPIPublish(wildcard, to: target) }
                    == .forbidden
            )
            #expect(
                code { () throws(SwitchboardError) in try development.authorizeAPIPublish(.anonymous, to: target) }
                    == .forbidden
            )
            #expect(
                code { () throws(SwitchboardError) in try policy.authorizeClientPublish(admin, to: target) }
                    == .forbidden
            )
            #expect(
                code { () throws(SwitchboardError) in try development.authorizeClientPublish(.anonymous, to: target) }
                    == .forbidden
            )
        }
    }

    @Test("Development mode lets anyone publish to ordinary channels")
    func developmentPublish() throws {
        let orders = try channel("orders")
        #expect(
            code { () throws(SwitchboardError) in try development.authorizeAPIPublish(.anonymous, to: orders) } == nil
        )
        #expect(
            code { () throws(SwitchboardError) in try development.authorizeClientPublish(.anonymous, to: orders) }
                == nil
        )
    }

    // MARK: Publishing from real-time clients

    @Test("A client may publish only where the namespace allows client publishing and its token's patterns match")
    func clientPublishNeedsNamespaceAndPattern() throws {
        let user = Principal(user: "u1", publishPatterns: [try NamePattern("chat:*"), try NamePattern("orders")])
        let chat = try channel("chat:1")
        let orders = try channel("orders")
        let lobby = try channel("lobby:1")
        #expect(code { () throws(SwitchboardError) in try policy.authorizeClientPublish(user, to: chat) } == nil)
        #expect(
            code { () throws(SwitchboardError) in try policy.authorizeClientPublish(user, to: orders) } == .forbidden
        )
        #expect(
            code { () throws(SwitchboardError) in try policy.authorizeClientPublish(user, to: lobby) } == .forbidden
        )
    }

    @Test("An anonymous client may publish only in a public namespace that allows client publishing")
    func anonymousClientPublish() throws {
        let lobby = try channel("lobby:1")
        let news = try channel("news:today")
        let chat = try channel("chat:1")
        #expect(code { () throws(SwitchboardError) in try policy.authorizeClientPublish(.anonymous, to: lobby) } == nil)
        #expect(
            code { () throws(SwitchboardError) in try policy.authorizeClientPublish(.anonymous, to: news) }
                == .forbidden
        )
        #expect(code { () throws(SwitchboardError) in try policy.authorizeClientPublish(.anonymous, to: chat) } != nil)
    }
}

@Suite("Access policy: personal and presence channels")
struct PersonalChannelTests {
    private let policy = AccessPolicy(
        namespaces: NamespacePolicies(
            named: [
                "inbox": NamespacePolicy(allowsClientPublish: true, isPersonal: true),
                "room": NamespacePolicy(hasPresence: true),
            ]
        ),
        isDevelopmentMode: false
    )

    private func code(_ body: () throws(SwitchboardError) -> Void) -> SwitchboardError.Code? {
        refusalCode(body)
    }

    @Test("A personal channel is open to the user it is named after, and to no one else")
    func personal() throws {
        let alice = Principal(user: "alice")
        let own = try ChannelName("inbox:alice")
        let other = try ChannelName("inbox:bob")
        #expect(code { () throws(SwitchboardError) in try policy.authorizeSubscribe(alice, to: own) } == nil)
        #expect(code { () throws(SwitchboardError) in try policy.authorizeClientPublish(alice, to: own) } == nil)
        #expect(code { () throws(SwitchboardError) in try policy.authorizeSubscribe(alice, to: other) } == .forbidden)
        #expect(
            code { () throws(SwitchboardError) in try policy.authorizeClientPublish(alice, to: other) } == .forbidden
        )
        #expect(
            code { () throws(SwitchboardError) in try policy.authorizeSubscribe(.anonymous, to: own) } == .unauthorized
        )
    }

    @Test("$presence:<channel> is readable by whoever may read the channel, and writable by no one")
    func presenceJournal() throws {
        let member = Principal(user: "u", subscribePatterns: [try NamePattern("room:*")])
        let outsider = Principal(user: "v", subscribePatterns: [try NamePattern("other:*")])
        let journal = try ChannelName("room:1").presenceJournal
        #expect(journal.rawValue == "$presence:room:1")
        #expect(journal.presenceSubject?.rawValue == "room:1")
        #expect(code { () throws(SwitchboardError) in try policy.authorizeSubscribe(member, to: journal) } == nil)
        #expect(
            code { () throws(SwitchboardError) in try policy.authorizeSubscribe(outsider, to: journal) } == .forbidden
        )
        #expect(
            code { () throws(SwitchboardError) in
                try policy.authorizeAPIPublish(Principal(scopes: [.admin]), to: journal)
            }
                == .forbidden
        )
    }

    @Test("Every channel of the longest name has a presence journal")
    func longestNameHasJournal() throws {
        let longest = try ChannelName("room:" + String(repeating: "a", count: 195))
        #expect(try ChannelName(longest.presenceJournal.rawValue) == longest.presenceJournal)
        #expect(throws: SwitchboardError.self) { try ChannelName("$x:" + String(repeating: "a", count: 200)) }
    }
}

/// The code of the error `body` throws, or nil when it throws none.
private func refusalCode(_ body: () throws(SwitchboardError) -> Void) -> SwitchboardError.Code? {
    do {
        try body()
        return nil
    } catch {
        return error.code
    }
}

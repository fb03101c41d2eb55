import Foundation
import SwitchboardCore
import SwitchboardTestSupport
import Testing

/// `/v1/keys…` over real sockets: creating, listing and revoking keys, and what each key may then do.
@Suite("Keys API")
struct KeysAPITests {
    private static func keyList(_ http: TestHTTP) async throws -> [JSONValue] {
        let response = try await http.request("GET", "/v1/keys")
        try #require(response.status == 200, "list answered \(response.status): \(response.body)")
        return try response.json["keys"]?.arrayValue ?? []
    }

    /// Creates a key through the API; the parsed 201 body.
    private static func createKey(_ http: TestHTTP, name: String, scopes: [String]) async throws -> JSONValue {
        let list = scopes.map { "\"\($0)\"" }.joined(separator: ",")
        let response = try await http.request("POST", "/v1/keys", body: #"{"name":"\#(name)","scopes":[\#(list)]}"#)
        try #require(response.status == 201, "create answered \(response.status): \(response.body)")
        return try response.json
    }

    private static func publishBody() -> String { #"{"type":"test","data":{}}"# }

    @Test("A created key is shown once; the list never shows it; lastUsed is set once it is used")
    func createAndList() async throws {
        try await TestServer.with { server in
            let admin = TestHTTP(server)
            let created = try await Self.createKey(admin, name: "orders publisher", scopes: ["publish:orders"])
            let id = try #require(created["id"]?.stringValue)
            let key = try #require(created["key"]?.stringValue)
            #expect(id.hasPrefix("key_"))
            #expect(key.hasPrefix("sbk_"))
            #expect(created["name"]?.stringValue == "orders publisher")
            #expect(created["scopes"] == .array([.string("publish:orders")]))
            #expect(created["lastUsed"] == .null)

            let listed = try await admin.request("GET", "/v1/keys")
            #expect(listed.status == 200)
            #expect(!listed.body.contains(key))
            let items = try listed.json["keys"]?.arrayValue ?? []
            let item = try #require(items.first { $0["id"]?.stringValue == id })
            #expect(item["key"] == nil)
            #expect(item["name"]?.stringValue == "orders publisher")
            #expect(item["lastUsed"] == .null)

            let publisher = TestHTTP(baseURL: server.baseURL, key: key)
            #expect(try await publisher.publish("orders")["offset"]?.intValue == 1)
            let after = try await Self.keyList(admin).first { $0["id"]?.stringValue == id }
            let lastUsed = after?["lastUsed"]?.stringValue
            #expect(lastUsed != nil, "lastUsed after use: \(String(describing: after))")
            #expect(isProtocolTime(lastUsed))
        }
    }

    @Test("A scope with a space is refused and stores nothing: it cannot come back as an admin scope")
    func noSmuggledScope() async throws {
        try await TestServer.with { server in
            let admin = TestHTTP(server)
            let before = try await Self.keyList(admin).count
            let response = try await admin.request(
                "POST",
                "/v1/keys",
                body: #"{"name":"sneaky","scopes":["publish:x admin"]}"#
            )
            try response.expectProblem("bad_request")
            let keys = try await Self.keyList(admin)
            #expect(keys.count == before)
            #expect(!keys.contains { $0["name"]?.stringValue == "sneaky" })
        }
    }

    @Test("A publish-scoped key publishes only where its scope allows; a subscribe-only key not at all")
    func scopes() async throws {
        try await TestServer.with { server in
            let admin = TestHTTP(server)
            let publishKey = try #require(
                try await Self.createKey(admin, name: "p", scopes: ["publish:orders"])["key"]?.stringValue
            )
            let subscribeKey = try #require(
                try await Self.createKey(admin, name: "s", scopes: ["subscribe:*"])["key"]?.stringValue
            )
            let publisher = TestHTTP(baseURL: server.baseURL, key: publishKey)
            let allowed = try await publisher.request("POST", "/v1/channels/orders/events", body: Self.publishBody())
            #expect(allowed.status == 201, "body: \(allowed.body)")
            let refused = try await publisher.request("POST", "/v1/channels/chat/events", body: Self.publishBody())
            refused.expectProblem("forbidden")

            let subscriber = TestHTTP(baseURL: server.baseURL, key: subscribeKey)
            let subscriberPublish = try await subscriber.request(
                "POST",
                "/v1/channels/orders/events",
                body: Self.publishBody()
            )
            subscriberPublish.expectProblem("forbidden")

            #expect(try await admin.storedEvents("chat").isEmpty)
            #expect(try await admin.storedEvents("orders").count == 1)
        }
    }

    @Test("No key and an unknown key are refused with 401 unauthorized and nothing is stored")
    func unauthenticated() async throws {
        try await TestServer.with { server in
            let anonymous = TestHTTP.anonymous(server)
            let noKey = try await anonymous.request("POST", "/v1/channels/orders/events", body: Self.publishBody())
            noKey.expectProblem("unauthorized")
            let wrong = TestHTTP(
                baseURL: server.baseURL,
                key: "sbk_" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
            )
            let wrongKey = try await wrong.request("POST", "/v1/channels/orders/events", body: Self.publishBody())
            wrongKey.expectProblem("unauthorized")
            let wrongList = try await wrong.request("GET", "/v1/keys")
            wrongList.expectProblem("unauthorized")
            let noKeyList = try await anonymous.request("GET", "/v1/keys")
            noKeyList.expectProblem("unauthorized")
            #expect(try await TestHTTP(server).storedEvents("orders").isEmpty)
        }
    }

    @Test("A revoked key gets 401 at once; the last admin key cannot be revoked (409 conflict)")
    func revoke() async throws {
        try await TestServer.with { server in
            let admin = TestHTTP(server)
            let created = try await Self.createKey(admin, name: "temporary", scopes: ["publish:orders"])
            let id = try #require(created["id"]?.stringValue)
            let key = try #require(created["key"]?.stringValue)
            let publisher = TestHTTP(baseURL: server.baseURL, key: key)
            try await publisher.publish("orders")

            let deleted = try await admin.request("DELETE", "/v1/keys/\(id)")
            #expect(deleted.status == 204, "body: \(deleted.body)")
            #expect(try await Self.keyList(admin).allSatisfy { $0["id"]?.stringValue != id })
            let afterRevoke = try await publisher.request(
                "POST",
                "/v1/channels/orders/events",
                body: Self.publishBody()
            )
            afterRevoke.expectProblem("unauthorized")
            #expect(try await admin.storedEvents("orders").count == 1)

            let adminKeys = try await Self.keyList(admin).filter {
                $0["scopes"]?.arrayValue?.contains(.string("admin")) == true
            }
            try #require(adminKeys.count == 1, "admin keys: \(adminKeys)")
            let adminID = try #require(adminKeys[0]["id"]?.stringValue)
            let refused = try await admin.request("DELETE", "/v1/keys/\(adminID)")
            refused.expectProblem("conflict")
            // The admin key still works.
            #expect(try await Self.keyList(admin).contains { $0["id"]?.stringValue == adminID })
        }
    }

    @Test("A key without the admin scope gets 403 forbidden on every /v1/keys call")
    func adminRequired() async throws {
        try await TestServer.with { server in
            let admin = TestHTTP(server)
            let key = try #require(
                try await Self.createKey(admin, name: "p", scopes: ["publish:*", "subscribe:*"])["key"]?.stringValue
            )
            let before = try await Self.keyList(admin)
            let publisher = TestHTTP(baseURL: server.baseURL, key: key)
            let routes: [(String, String, String?)] = [
                ("POST", "/v1/keys", #"{"name":"x","scopes":["admin"]}"#),
                ("GET", "/v1/keys", nil),
                ("DELETE", "/v1/keys/\(before[0]["id"]?.stringValue ?? "key_x")", nil),
            ]
            for (method, path, body) in routes {
                let response = try await publisher.request(method, path, body: body)
                response.expectProblem("forbidden")
            }
            // Nothing created or revoked (lastUsed may change: the keys were used).
            let identities = { (keys: [JSONValue]) in keys.map { [$0["id"], $0["name"], $0["scopes"]] } }
            #expect(identities(try await Self.keyList(admin)) == identities(before))
        }
    }

    @Test("Invalid key bodies are refused with 400 bad_request and no key is created")
    func validation() async throws {
        try await TestServer.with { server in
            let admin = TestHTTP(server)
            let before = try await Self.keyList(admin)
            let bodies = [
                #"{"scopes":["publish:orders"]}"#,
                #"{"name":"","scopes":["publish:orders"]}"#,
                #"{"name":"x","scopes":[]}"#,
                #"{"name":"x"}"#,
                #"{"name":"x","scopes":["root"]}"#,
                #"{"name":"x","scopes":[1]}"#,
                #"{"name":"x","scopes":["publish:orders"],"expires":"never"}"#,
                #"["publish:orders"]"#,
                "not json",
            ]
            for body in bodies {
                let response = try await admin.request("POST", "/v1/keys", body: body)
                response.expectProblem("bad_request")
            }
            #expect(try await Self.keyList(admin) == before)
        }
    }
}

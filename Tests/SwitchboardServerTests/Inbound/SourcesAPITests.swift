import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// `/v1/sources`: create, list, read, change, delete; secrets never shown; config-file sources
/// read-only; admin only.
@Suite("Sources API")
struct SourcesAPITests {
    private static let body = #"{"name":"shop","verify":"shopify","secrets":["shpss_one"],"channel":"shop"}"#

    @Test("Create, list, read, change and delete a source; its secrets are never shown")
    func lifecycle() async throws {
        try await TestServer.with { server in
            let admin = TestHTTP(server)
            let created = try await admin.request("POST", "/v1/sources", body: Self.body)
            #expect(created.status == 201, "body: \(created.body)")
            #expect(try created.json["typeFrom"] == .string("header:X-Shopify-Topic"))
            #expect(try created.json["secrets"] == .int(1))
            #expect(try created.json["url"] == .string("/v1/inbound/shop"))
            #expect(!created.body.contains("shpss_one"))
            try await admin.request("POST", "/v1/sources", body: Self.body).expectProblem("conflict")

            let changed = try await admin.request(
                "PATCH",
                "/v1/sources/shop",
                body: #"{"secrets":["shpss_two","shpss_one"],"defaultType":"shop.event"}"#
            )
            #expect(changed.status == 200, "body: \(changed.body)")
            #expect(try changed.json["secrets"] == .int(2))
            #expect(try changed.json["defaultType"] == .string("shop.event"))

            // Stored: the change survives a restart.
            try await server.restart()
            let read = try await admin.request("GET", "/v1/sources/shop")
            #expect(try read.json["secrets"] == .int(2))
            #expect(try read.json["managedBy"] == .string("api"))
            let list = try await admin.request("GET", "/v1/sources")
            #expect(try list.json["sources"]?.arrayValue?.count == 1)
            #expect(!list.body.contains("shpss_"))

            #expect(try await admin.request("DELETE", "/v1/sources/shop").status == 204)
            try await admin.request("GET", "/v1/sources/shop").expectProblem("not_found")
            try await admin.request("DELETE", "/v1/sources/shop").expectProblem("not_found")
        }
    }

    @Test("Bad sources get 400 and nothing is created; non-admins get 401/403")
    func refusals() async throws {
        try await TestServer.with { server in
            let admin = TestHTTP(server)
            for body in [
                #"{"name":"x","verify":"md5","secrets":["s"],"channel":"c"}"#,
                #"{"name":"x","verify":"github","secrets":[],"channel":"c"}"#,
                #"{"name":"x","verify":"github","secrets":["s"],"channel":"$system"}"#,
                #"{"name":"X Y","verify":"github","secrets":["s"],"channel":"c"}"#,
                "[]",
            ] {
                let response = try await admin.request("POST", "/v1/sources", body: body)
                #expect(response.status == 400, "\(body) answered \(response.status)")
            }
            #expect(try await admin.request("GET", "/v1/sources").json["sources"]?.arrayValue?.isEmpty == true)
            try await TestHTTP.anonymous(server).request("GET", "/v1/sources").expectProblem("unauthorized")
            let publisher = TestHTTP(baseURL: server.baseURL, key: try await server.addAPIKey(scopes: ["publish:*"]))
            try await publisher.request("POST", "/v1/sources", body: Self.body).expectProblem("forbidden")
            try await publisher.request("GET", "/v1/sources/x/requests").expectProblem("forbidden")
        }
    }

    @Test("A source from the configuration is listed and used, but cannot be changed or deleted through the API")
    func configuredSource() async throws {
        let source = InboundSource(
            name: "github",
            scheme: .github,
            secrets: ["It's a Secret to Everybody"],
            channel: try ChannelName("github")
        )
        try await TestServer.with(configure: { $0.engine.inboundSources = [source] }) { server in
            let admin = TestHTTP(server)
            let read = try await admin.request("GET", "/v1/sources/github")
            #expect(try read.json["managedBy"] == .string("config"))
            try await admin.request("PATCH", "/v1/sources/github", body: #"{"secrets":["x"]}"#).expectProblem(
                "conflict"
            )
            try await admin.request("DELETE", "/v1/sources/github").expectProblem("conflict")
            let duplicate = #"{"name":"github","verify":"github","secrets":["s"],"channel":"c"}"#
            try await admin.request("POST", "/v1/sources", body: duplicate).expectProblem("conflict")
        }
    }
}

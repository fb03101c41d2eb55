import Foundation
import SwitchboardCore
import SwitchboardTestSupport
import Testing

/// `switchboard listen` and `switchboard endpoints`, running the built binary against a real server.
@Suite("switchboard listen and endpoints")
struct ListenCommandTests {
    @Test("listen forwards matching events to a local URL as signed webhooks and removes its endpoint on Ctrl-C")
    func listenForwardsSignedWebhooks() async throws {
        let app = try await TestWebhookReceiver.start()
        defer { Task { await app.stop() } }
        try await TestServer.with { server in
            let common = ["--url", server.baseURL, "--key", server.adminKey]
            let listen = try RunningCommand(
                ["listen", "--forward-to", app.url, "--channel", "orders*"] + common,
                capturingStandardError: true
            )
            defer { listen.send(SIGKILL) }
            let secretLine = try #require(await listen.waitForLine(containing: "whsec_"))
            let secret = try #require(secretLine.split(separator: " ").last.map(String.init))

            let http = TestHTTP(server)
            try await http.publish("chat", type: "message.sent")
            let receipt = try await http.publish("orders", type: "order.created", data: #"{"n":1}"#)
            let request = try await app.next()
            #expect(request.headers["webhook-id"] == receipt["id"]?.stringValue)
            #expect(try request.isSigned(with: secret))
            #expect(try JSONParser.parse(request.body)["channel"] == .string("orders"))
            #expect(await listen.waitForLine(containing: "→ 200") != nil)
            // The server recorded the relayed attempt like any other.
            let endpoints = try await http.request("GET", "/v1/endpoints").json
            let endpoint = try #require(endpoints["endpoints"]?.arrayValue?.first?["id"]?.stringValue)
            // The attempt is recorded just after the answer is relayed: wait for it (up to 20 s).
            var status: JSONValue?
            let deadline = ContinuousClock.now + .seconds(20)
            while status != .string("succeeded") && ContinuousClock.now < deadline {
                let deliveries = try await http.request("GET", "/v1/endpoints/\(endpoint)/deliveries").json
                status = deliveries["deliveries"]?.arrayValue?.first?["status"]
                if status != .string("succeeded") { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(status == .string("succeeded"))

            listen.send(SIGINT)
            #expect(await listen.waitForExit() == 0)
            let after = try await http.request("GET", "/v1/endpoints").json
            #expect(after["endpoints"]?.arrayValue?.isEmpty == true)
            #expect(app.all.count == 1)
        }
    }

    @Test("endpoints add prints the endpoint with its secret; list, show, rotate-secret and deliveries answer JSON")
    func endpointsCommands() async throws {
        try await TestServer.with { server in
            let common = ["--url", server.baseURL, "--key", server.adminKey]
            func run(_ arguments: [String]) async throws -> JSONValue {
                let command = try RunningCommand(arguments + common)
                let lines = await command.waitForLines(1)
                #expect(await command.waitForExit() == 0, "\(arguments)")
                return try JSONParser.parse(try #require(lines.first))
            }
            let created = try await run([
                "endpoints", "add", "https://example.com/hooks", "--channel", "orders", "--type", "order.*",
                "--ordered",
                "--header", "X-Team: billing",
            ])
            let id = try #require(created["id"]?.stringValue)
            #expect(created["secret"]?.stringValue?.hasPrefix("whsec_") == true)
            #expect(created["ordered"] == .bool(true))
            #expect(created["headers"] == .object([("X-Team", .string("billing"))]))
            #expect(try await run(["endpoints", "list"])["endpoints"]?.arrayValue?.count == 1)
            #expect(try await run(["endpoints", "show", id])["id"] == .string(id))
            let rotated = try await run(["endpoints", "rotate-secret", id])
            #expect(rotated["secret"]?.stringValue?.hasPrefix("whsec_") == true)
            #expect(rotated["secret"] != created["secret"])
            #expect(try await run(["endpoints", "deliveries", id])["deliveries"] == .array([]))
            let replay = try await run(["endpoints", "replay", id, "--since", "2026-01-01T00:00:00.000Z"])
            #expect(replay["replayed"] == .int(0))
        }
    }
}

import Foundation
import SwitchboardCore
import SwitchboardEngine
import SwitchboardTestSupport
import Testing

/// Where deliveries may go: private targets refused by default, redirects not followed, and an
/// endpoint answering `410 Gone` disabled at once.
@Suite("Webhook safety", .timeLimit(.minutes(5)))
struct WebhookSafetyTests {
    @Test(
        "By default a loopback target is never contacted; each attempt records why",
        arguments: ["127.0.0.1", "localhost"]
    )
    func loopbackRefused(host: String) async throws {
        let receiver = try await TestWebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        let url = receiver.url.replacingOccurrences(of: "127.0.0.1", with: host)
        try await TestServer.with(configure: WebhookTest.configureWithDefaultSafety(schedule: "0s,100ms,100ms")) {
            server in
            #expect(server.engineConfiguration.webhooks.allowsPrivateTargets == false)
            let http = TestHTTP(server)
            let id = try WebhookTest.id(
                of: try await WebhookTest.createEndpoint(http, body: #"{"url":"\#(url)","channels":["orders"]}"#)
            )
            try await http.publish("orders")
            let delivery = try await WebhookTest.delivery(http, endpoint: id) { $0["status"]?.stringValue == "dead" }
            let attempts = try #require(delivery["attempts"]?.arrayValue)
            #expect(attempts.count == 3)
            for attempt in attempts {
                #expect(attempt["status"] == .null)
                let error = attempt["error"]?.stringValue ?? ""
                #expect(error.contains("loopback"), "error: \(error)")
            }
            #expect(receiver.all.isEmpty)
        }
    }

    @Test("A 3xx answer is a failure and the redirect is not followed")
    func redirectNotFollowed() async throws {
        let elsewhere = Shared("")
        let receiver = try await TestWebhookReceiver.start { request in
            request.path == "/hooks"
                ? TestWebhookReceiver.Reply(status: 302, headers: [("Location", elsewhere.value)])
                : TestWebhookReceiver.Reply(status: 200)
        }
        defer { Task { await receiver.stop() } }
        elsewhere.set(receiver.url.replacingOccurrences(of: "/hooks", with: "/elsewhere"))
        try await TestServer.with(configure: WebhookTest.configure(schedule: "0s,100ms,100ms")) { server in
            let http = TestHTTP(server)
            let id = try WebhookTest.id(
                of: try await WebhookTest.createEndpoint(
                    http,
                    body: #"{"url":"\#(receiver.url)","channels":["orders"]}"#
                )
            )
            try await http.publish("orders")
            let delivery = try await WebhookTest.delivery(http, endpoint: id) { $0["status"]?.stringValue == "dead" }
            #expect(WebhookTest.attemptStatuses(delivery) == [302, 302, 302])
            let error = delivery["attempts"]?.arrayValue?.first?["error"]?.stringValue ?? ""
            #expect(error.contains("redirect"), "error: \(error)")
            let requests = receiver.all
            #expect(requests.count == 3)
            #expect(requests.allSatisfy { $0.path == "/hooks" }, "paths: \(requests.map(\.path))")
        }
    }

    @Test("410 Gone disables the endpoint at once; enabling it again resumes deliveries")
    func goneDisablesEndpoint() async throws {
        let gone = Shared(true)
        let receiver = try await TestWebhookReceiver.start { _ in
            gone.value ? TestWebhookReceiver.Reply(status: 410, body: "gone") : TestWebhookReceiver.Reply(status: 200)
        }
        defer { Task { await receiver.stop() } }
        // A healthy endpoint on the same channel shows when the worker has handled later events.
        let witness = try await TestWebhookReceiver.start()
        defer { Task { await witness.stop() } }
        try await TestServer.with(configure: WebhookTest.configure()) { server in
            let http = TestHTTP(server)
            let id = try WebhookTest.id(
                of: try await WebhookTest.createEndpoint(
                    http,
                    body: #"{"url":"\#(receiver.url)","channels":["orders"]}"#
                )
            )
            _ = try await WebhookTest.createEndpoint(http, body: #"{"url":"\#(witness.url)","channels":["orders"]}"#)

            let first = try #require(try await http.publish("orders")["id"]?.stringValue)
            let disabled = try await TestActivity.eventually("the endpoint to be disabled") {
                let endpoint = try await http.request("GET", "/v1/endpoints/\(id)").json
                return endpoint["enabled"]?.boolValue == false ? endpoint : nil
            }
            let reason = disabled["disabledReason"]?.stringValue ?? ""
            #expect(reason.contains("410"), "disabledReason: \(reason)")
            let event = try await WebhookTest.systemEvent(http, type: "endpoint.disabled") {
                $0["endpoint"]?.stringValue == id
            }
            #expect(event["data"]?["url"]?.stringValue == receiver.url)
            #expect(event["data"]?["reason"]?.stringValue?.contains("410") == true)
            let delivery = try await WebhookTest.delivery(http, endpoint: id) { _ in true }
            #expect(delivery["event"]?.stringValue == first)
            #expect(WebhookTest.attemptStatuses(delivery) == [410])

            // Published while disabled: the witness gets it, the disabled endpoint is not asked.
            let second = try #require(try await http.publish("orders")["id"]?.stringValue)
            _ = try await WebhookTest.requests(to: witness, webhookID: second)
            #expect(receiver.all.count == 1)
            #expect(!receiver.all.contains { $0.headers["webhook-id"] == second })

            gone.set(false)
            let enabled = try await http.request("POST", "/v1/endpoints/\(id)/enable")
            #expect(enabled.status == 200, "body: \(enabled.body)")
            #expect(try enabled.json["enabled"]?.boolValue == true)
            #expect(try enabled.json["disabledReason"] == .null)
            let read = try await http.request("GET", "/v1/endpoints/\(id)").json
            #expect(read["enabled"]?.boolValue == true)

            let third = try #require(try await http.publish("orders")["id"]?.stringValue)
            let requests = try await WebhookTest.requests(to: receiver, webhookID: third)
            #expect(requests.count == 1)
        }
    }
}

import Foundation
import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// Shared steps of the webhook end-to-end tests.
enum WebhookTest {
    /// A server whose webhooks may reach loopback receivers, with a fast retry schedule.
    static func configure(schedule: String = "0s,200ms,200ms,200ms,200ms") -> (inout ServerConfiguration) -> Void {
        { configuration in
            configuration.engine.webhooks.allowsPrivateTargets = true
            configuration.engine.webhooks.timeout = .seconds(5)
            configuration.engine.webhooks.schedule = (try? RetrySchedule(parsing: schedule, jitter: 0)) ?? .standard
        }
    }

    /// Creates an endpoint and returns its JSON (with `id` and `secret`).
    static func createEndpoint(_ http: TestHTTP, body: String) async throws -> JSONValue {
        let response = try await http.request("POST", "/v1/endpoints", body: body)
        try #require(response.status == 201, "create endpoint answered \(response.status): \(response.body)")
        return try response.json
    }

    /// Reads an endpoint's newest delivery after every change (`TestActivity`) until `condition` holds.
    static func delivery(
        _ http: TestHTTP,
        endpoint: String,
        until condition: (JSONValue) -> Bool
    ) async throws -> JSONValue {
        try await TestActivity.eventually("a delivery of \(endpoint) in the expected state") {
            try await deliveries(http, endpoint: endpoint).first.flatMap { condition($0) ? $0 : nil }
        }
    }
}

extension WebhookTest {
    /// Runs `body` against a server (`configure`d) with an endpoint on `orders` that points at a receiver
    /// answering `200`: the common start of the webhook end-to-end tests.
    static func withOrdersEndpoint<T: Sendable>(
        configure: @escaping (inout ServerConfiguration) -> Void = WebhookTest.configure(),
        _ body: (_ server: TestServer, _ http: TestHTTP, _ endpoint: String, _ receiver: TestWebhookReceiver)
            async throws -> T
    ) async throws -> T {
        let receiver = try await TestWebhookReceiver.start { _ in TestWebhookReceiver.Reply(status: 200) }
        defer { Task { await receiver.stop() } }
        return try await TestServer.with(configure: configure) { server in
            let http = TestHTTP(server)
            let endpoint = try id(
                of: try await createEndpoint(http, body: #"{"url":"\#(receiver.url)","channels":["orders"]}"#)
            )
            return try await body(server, http, endpoint, receiver)
        }
    }
}

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

    /// Polls a delivery until `condition` holds (or 180 s pass: a guard against a hang) and returns it.
    static func delivery(
        _ http: TestHTTP,
        endpoint: String,
        until condition: (JSONValue) -> Bool
    ) async throws -> JSONValue {
        let deadline = ContinuousClock.now + .seconds(180)
        while ContinuousClock.now < deadline {
            let response = try await http.request("GET", "/v1/endpoints/\(endpoint)/deliveries")
            if case .array(let items)? = try response.json["deliveries"], let first = items.first, condition(first) {
                return first
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestServerError("no delivery of \(endpoint) reached the expected state")
    }
}

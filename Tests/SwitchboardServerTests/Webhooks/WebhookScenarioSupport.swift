import Foundation
import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardTestSupport
import Synchronization
import Testing

/// A value a test shares with its receiver script (which runs on an event loop), under a lock.
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) {
        mutex = Mutex(value)
    }

    /// The value now.
    var value: Value {
        mutex.withLock { $0 }
    }

    /// Replaces the value.
    func set(_ value: Value) {
        mutex.withLock { $0 = value }
    }

    /// Changes the value and returns what `body` returns, atomically.
    func update<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        mutex.withLock { value in body(&value) }
    }
}

extension WebhookTest {
    /// A server like `configure(schedule:)`'s but with PROTOCOL.md's default target safety: loopback,
    /// private and link-local receivers are refused.
    static func configureWithDefaultSafety(schedule: String) -> (inout ServerConfiguration) -> Void {
        { configuration in
            configuration.engine.webhooks.timeout = .seconds(5)
            configuration.engine.webhooks.schedule = (try? RetrySchedule(parsing: schedule, jitter: 0)) ?? .standard
        }
    }

    /// `GET /v1/endpoints/{id}/deliveries?{query}`, which must answer 200; the whole page.
    static func deliveryPage(_ http: TestHTTP, endpoint: String, query: String = "") async throws -> JSONValue {
        let path = "/v1/endpoints/\(endpoint)/deliveries" + (query.isEmpty ? "" : "?" + query)
        let response = try await http.request("GET", path)
        try #require(response.status == 200, "\(path) answered \(response.status): \(response.body)")
        return try response.json
    }

    /// An endpoint's deliveries (first page, newest first).
    static func deliveries(_ http: TestHTTP, endpoint: String, query: String = "") async throws -> [JSONValue] {
        try await deliveryPage(http, endpoint: endpoint, query: query)["deliveries"]?.arrayValue ?? []
    }

    /// Reads `GET /v1/deliveries/{id}` after every change (`TestActivity`) until `condition` holds.
    static func delivery(
        _ http: TestHTTP,
        id: String,
        until condition: @escaping (JSONValue) -> Bool
    ) async throws -> JSONValue {
        try await TestActivity.eventually("delivery \(id) to reach the expected state") {
            let response = try await http.request("GET", "/v1/deliveries/\(id)")
            try #require(response.status == 200, "GET delivery answered \(response.status): \(response.body)")
            let delivery = try response.json
            return condition(delivery) ? delivery : nil
        }
    }

    /// The HTTP statuses of a delivery's attempts, oldest first (nil where no response came).
    static func attemptStatuses(_ delivery: JSONValue) -> [Int64?] {
        (delivery["attempts"]?.arrayValue ?? []).map { $0["status"]?.intValue }
    }

    /// Waits for an event of `type` on `$system` whose data satisfies `condition`, read with the
    /// history API (`$` sent as is in the path); returns the event.
    static func systemEvent(
        _ http: TestHTTP,
        type: String,
        where condition: @escaping (JSONValue) -> Bool
    ) async throws -> JSONValue {
        try await TestActivity.eventually("a \(type) event on $system") {
            let response = try await http.request("GET", "/v1/channels/$system/events?after=0&limit=1000")
            try #require(response.status == 200, "$system history answered \(response.status): \(response.body)")
            let events = try response.json["events"]?.arrayValue ?? []
            return events.first { $0["type"]?.stringValue == type && condition($0["data"] ?? .null) }
        }
    }

    /// The offset in a received delivery's body.
    static func offset(of request: TestWebhookReceiver.Received) -> Int64? {
        (try? JSONParser.parse(request.body))?["offset"]?.intValue
    }

    /// Waits until the receiver has had a request carrying `webhook-id: id`; returns every such request.
    static func requests(
        to receiver: TestWebhookReceiver,
        webhookID id: String,
        atLeast count: Int = 1
    ) async throws -> [TestWebhookReceiver.Received] {
        try await TestActivity.eventually("\(count) request(s) for \(id)") {
            let matching = receiver.all.filter { $0.headers["webhook-id"] == id }
            return matching.count >= count ? matching : nil
        }
    }

    /// The endpoint's `id`, required.
    static func id(of endpoint: JSONValue) throws -> String {
        try #require(endpoint["id"]?.stringValue)
    }

    /// A time in PROTOCOL.md's form, `offsetMilliseconds` from now.
    static func time(offsetMilliseconds: Int64 = 0) -> String {
        Timestamp(millisecondsSinceEpoch: Engine.wallClock().millisecondsSinceEpoch + offsetMilliseconds).description
    }
}

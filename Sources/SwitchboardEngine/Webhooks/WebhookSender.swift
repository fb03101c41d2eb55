import AsyncHTTPClient
import FoundationEssentials
import NIOCore
import NIOHTTP1
import SwitchboardCore
import SwitchboardStore

/// Makes one signed HTTP attempt of a delivery and describes what happened.
struct WebhookSender: Sendable {
    /// What one attempt produced.
    struct Response: Sendable {
        var status: Int?
        var headers: [EndpointSettings.HeaderField] = []
        var body: String?
        var error: String?
        var retryAfter: Duration?
        var latency: Duration
        /// The event has no place in the endpoint's format (a plain event on a Pusher endpoint): no
        /// request was made, and the delivery is done.
        var hadNothingToSend = false
        var wasNetworkFailure: Bool { status == nil }
    }

    /// First bytes of a response body kept in the attempt record.
    static let recordedBodyBytes = 4096
    /// Response bodies are read at most this far (so the connection can be reused), then dropped.
    static let drainedBodyBytes = 64 * 1024

    let targets: WebhookTargets
    let relays: WebhookRelays
    let timeout: Duration
    let userAgent: String
    /// The configured Pusher apps, which sign the webhooks of endpoints with Pusher signing.
    var pusherApps: [String: PusherAppKey] = [:]

    /// What one attempt sends, or why it sends nothing.
    enum Request {
        case send(body: [UInt8], headers: [(String, String)])
        case nothingToSend
        case failed(String)
    }

    /// The body and headers of one attempt at `time`: Standard Webhooks, or a Pusher app's webhook.
    func request(for event: Event, to endpoint: Endpoint, at time: Timestamp) -> Request {
        guard let app = endpoint.signingKey.pusherApp else {
            let body = WebhookPayload.body(for: event)
            return .send(body: body, headers: headers(for: event, body: body, to: endpoint, at: time))
        }
        guard let pusherEvent = PusherWebhook.event(for: event) else { return .nothingToSend }
        guard let appKey = pusherApps[app] else {
            return .failed("the Pusher app \(JSONWriter.quoted(app)) is not configured on this server")
        }
        let body = PusherWebhook.body(events: [pusherEvent], at: time)
        let headers =
            baseHeaders(for: event, to: endpoint)
            + PusherWebhook.headers(body: body, key: appKey.key, secret: appKey.secret)
        return .send(body: body, headers: headers)
    }

    /// What every attempt carries: the endpoint's own headers, the content type, the user agent and the
    /// event's id (the same on every retry).
    private func baseHeaders(for event: Event, to endpoint: Endpoint) -> [(String, String)] {
        endpoint.settings.headers.map { ($0.name, $0.value) } + [
            ("content-type", "application/json"), ("user-agent", userAgent), ("webhook-id", event.id.rawValue),
        ]
    }

    /// The request headers of one attempt: the base ones, then the signed Standard Webhooks ones.
    func headers(for event: Event, body: [UInt8], to endpoint: Endpoint, at time: Timestamp) -> [(String, String)] {
        let seconds = time.millisecondsSinceEpoch / 1000
        return baseHeaders(for: event, to: endpoint) + [
            ("webhook-timestamp", String(seconds)),
            (
                "webhook-signature",
                endpoint.signatureHeader(id: event.id.rawValue, timestamp: seconds, body: body, at: time)
            ),
        ]
    }

    /// POSTs the event to the endpoint, signed at `time` (or relays it to a `switchboard listen`).
    func send(event: Event, delivery: String, to endpoint: Endpoint, at time: Timestamp) async -> Response {
        let (body, headers): ([UInt8], [(String, String)])
        switch request(for: event, to: endpoint, at: time) {
        case .send(let requestBody, let requestHeaders): (body, headers) = (requestBody, requestHeaders)
        case .nothingToSend:
            return Response(
                error: "nothing sent: this event is none of Pusher's webhook events",
                latency: .zero,
                hadNothingToSend: true
            )
        case .failed(let error): return Response(error: error, latency: .zero)
        }
        let started = ContinuousClock.now
        if endpoint.settings.isRelay {
            let outcome = await relays.relay(
                delivery: delivery,
                endpoint: endpoint.id,
                headers: headers,
                body: String(decoding: body, as: UTF8.self),
                timeout: timeout
            )
            let failed = outcome.status.map { !(200..<300).contains($0) } ?? true
            return Response(
                status: outcome.status,
                body: outcome.body,
                error: outcome.error ?? (failed ? outcome.status.map(Self.describe(status:)) : nil),
                latency: ContinuousClock.now - started
            )
        }
        guard let url = URL(string: endpoint.settings.url) else {
            return Response(error: "the endpoint URL cannot be parsed", latency: .zero)
        }
        let client: HTTPClient
        do {
            client = try await targets.client(for: url)
        } catch {
            return Response(error: "\(error)", latency: ContinuousClock.now - started)
        }
        var request = HTTPClientRequest(url: endpoint.settings.url)
        request.method = .POST
        for (name, value) in headers {
            request.headers.add(name: name, value: value)
        }
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: .milliseconds(timeout.wholeMilliseconds))
            var kept: [UInt8] = []
            var read = 0
            for try await chunk in response.body {
                read += chunk.readableBytes
                if kept.count < Self.recordedBodyBytes {
                    kept += chunk.readableBytesView.prefix(Self.recordedBodyBytes - kept.count)
                }
                if read >= Self.drainedBodyBytes { break }
            }
            let status = Int(response.status.code)
            var retryAfter: Duration?
            if status == 429 || status == 503, let value = response.headers.first(name: "retry-after") {
                retryAfter = RetryAfter.delay(value, now: time)
            }
            return Response(
                status: status,
                headers: response.headers.prefix(50).map {
                    EndpointSettings.HeaderField(name: $0.name, value: String($0.value.prefix(1024)))
                },
                body: kept.isEmpty ? nil : String(decoding: kept, as: UTF8.self),
                error: (200..<300).contains(status) ? nil : Self.describe(status: status),
                retryAfter: retryAfter,
                latency: ContinuousClock.now - started
            )
        } catch {
            return Response(error: Self.describe(error, timeout: timeout), latency: ContinuousClock.now - started)
        }
    }

    private static func describe(status: Int) -> String {
        (300..<400).contains(status) ? "HTTP \(status): redirects are not followed" : "HTTP \(status)"
    }

    private static func describe(_ error: any Error, timeout: Duration) -> String {
        if let error = error as? HTTPClientError {
            if error == .deadlineExceeded || error == .readTimeout {
                return "no response within \(timeout.wholeMilliseconds) ms"
            }
            if error == .connectTimeout { return "connecting timed out" }
            if error == .remoteConnectionClosed { return "the connection was closed before a response" }
        }
        return "\(error)"
    }
}

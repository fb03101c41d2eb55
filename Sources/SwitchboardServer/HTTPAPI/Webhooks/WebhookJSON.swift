import SwitchboardCore
import SwitchboardStore

/// How endpoints and deliveries look in the HTTP API.
enum WebhookJSON {
    /// An endpoint; secrets are shown only where `secret` is passed (on create and rotation).
    static func endpoint(_ endpoint: Endpoint, secret: String? = nil) -> JSONValue {
        let settings = endpoint.settings
        var members: [(String, JSONValue)] = [
            ("id", .string(endpoint.id)), ("url", .string(settings.url)),
            ("channels", .array(settings.filter.channels.map { .string($0.rawValue) })),
            ("types", .array(settings.filter.types.map { .string($0.rawValue) })),
            ("description", .string(settings.description)),
            ("rateLimit", settings.rateLimit.map { .int(Int64($0)) } ?? .null), ("ordered", .bool(settings.isOrdered)),
            ("headers", .object(settings.headers.map { ($0.name, .string($0.value)) })),
            ("signing", .string(endpoint.signingKey.schemeName)),
            ("enabled", .bool(endpoint.isEnabled)),
            ("disabledReason", endpoint.disabledReason.map { .string($0) } ?? .null),
            ("failingSince", endpoint.failingSince.map { .string($0.description) } ?? .null),
            ("created", .string(endpoint.created.description)), ("updated", .string(endpoint.updated.description)),
        ]
        if let publicKey = endpoint.signingKey.publicKeyText { members.append(("publicKey", .string(publicKey))) }
        if let app = endpoint.signingKey.pusherApp { members.append(("pusherApp", .string(app))) }
        if let secret { members.append(("secret", .string(secret))) }
        return .object(members)
    }

    /// A delivery with its attempts (PROTOCOL.md "Webhooks out").
    static func delivery(_ delivery: DeliveryRecord) -> JSONValue {
        .object([
            ("id", .string(delivery.id)), ("endpoint", .string(delivery.endpointID)),
            ("event", .string(delivery.eventID)),
            ("channel", .string(delivery.channel)), ("offset", .int(delivery.offset)), ("type", .string(delivery.type)),
            ("status", .string(delivery.status.rawValue)),
            ("nextAttempt", delivery.nextAttempt.map { .string($0.description) } ?? .null),
            ("created", .string(delivery.created.description)),
            ("attempts", .array(delivery.attempts.map(attempt))),
        ])
    }

    private static func attempt(_ attempt: AttemptRecord) -> JSONValue {
        .object([
            ("number", .int(Int64(attempt.number))), ("time", .string(attempt.time.description)),
            ("status", attempt.status.map { .int(Int64($0)) } ?? .null),
            ("latencyMs", .int(attempt.latencyMilliseconds)), ("error", attempt.error.map { .string($0) } ?? .null),
            ("responseHeaders", .object(attempt.responseHeaders.map { ($0.name, .string($0.value)) })),
            ("responseBody", attempt.responseBody.map { .string($0) } ?? .null),
        ])
    }
}

import HTTPTypes
import Hummingbird
import SwitchboardCore
import SwitchboardEngine
import SwitchboardStore

/// `/v1/endpoints…`: webhook endpoints (admin only).
struct EndpointsController<Context: RequestContext>: Sendable {
    let api: APIContext

    func addRoutes(to group: RouterGroup<Context>) {
        group.post("endpoints", use: create)
        group.get("endpoints", use: list)
        group.get("endpoints/{id}", use: read)
        group.patch("endpoints/{id}", use: change)
        group.delete("endpoints/{id}", use: remove)
        group.get("endpoints/{id}/secret", use: secret)
        group.post("endpoints/{id}/rotate-secret", use: rotateSecret)
        group.post("endpoints/{id}/test", use: test)
        group.post("endpoints/{id}/enable", use: enable)
        group.post("endpoints/{id}/disable", use: disable)
    }

    @Sendable func create(_ request: Request, context: Context) async throws -> Response {
        try await api.requireAdmin(request)
        var body = try await api.jsonBody(of: request)
        var generator = api.engine.ambient.randomNumberGenerator
        let key: WebhookSigningKey
        switch (body["signing"], body["secret"]) {
        case (.none, .none), (.some(.string("hmac-sha256")), .none):
            key = .hmac(WebhookSecret.random(using: &generator))
        case (.none, .some(.string(let text))), (.some(.string("hmac-sha256")), .some(.string(let text))):
            key = .hmac(try WebhookSecret(text))
        case (.some(.string("ed25519")), .none):
            key = .newEd25519()
        case (.some(.string("ed25519")), .some):
            throw SwitchboardError(.badRequest, "an ed25519 endpoint's key is made by the server; omit secret")
        case (.some(.string("pusher")), .none):
            key = .pusher(app: try pusherApp(of: body))
            body = PusherEndpoint.withDefaultChannels(body)
        case (.some(.string("pusher")), .some):
            throw SwitchboardError(.badRequest, "a Pusher endpoint is signed with its app's secret; omit secret")
        default:
            throw SwitchboardError(
                .badRequest,
                "signing is \"hmac-sha256\" (default), \"ed25519\" or \"pusher\"; secret is a whsec_ string"
            )
        }
        if key.pusherApp == nil, body["pusherApp"] != nil {
            throw SwitchboardError(.badRequest, "pusherApp goes with \"signing\": \"pusher\"")
        }
        var settings = try EndpointSettings(json: body)
        if key.pusherApp != nil { settings = try PusherEndpoint.withJournals(settings, body: body, isNew: true) }
        let now = api.engine.ambient.wallClock()
        let endpoint = Endpoint(
            id: Endpoint.makeID(using: &generator),
            settings: settings,
            signingKey: key,
            created: now,
            updated: now
        )
        try await api.engine.createEndpoint(endpoint)
        return APIContext.json(WebhookJSON.endpoint(endpoint, secret: Self.secretText(key)).jsonText, status: .created)
    }

    /// The configured Pusher app a Pusher endpoint's `pusherApp` names.
    private func pusherApp(of body: JSONValue) throws(SwitchboardError) -> String {
        guard case .string(let app)? = body["pusherApp"] else {
            throw SwitchboardError(.badRequest, "a Pusher endpoint needs pusherApp: the id of a configured Pusher app")
        }
        guard api.engine.configuration.webhooks.pusherApps[app] != nil else {
            throw SwitchboardError(
                .badRequest,
                "no Pusher app \(JSONWriter.quoted(String(app.prefix(64)))) is configured (pusher.* in the configuration)"
            )
        }
        return app
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        try await api.requireAdmin(request)
        let endpoints = try await api.engine.adminStore.listEndpoints()
        return APIContext.json(
            JSONValue.object([("endpoints", .array(endpoints.map { WebhookJSON.endpoint($0) }))]).jsonText
        )
    }

    @Sendable func read(_ request: Request, context: Context) async throws -> Response {
        try await api.requireAdmin(request)
        return APIContext.json(WebhookJSON.endpoint(try await endpoint(in: context)).jsonText)
    }

    @Sendable func change(_ request: Request, context: Context) async throws -> Response {
        try await api.requireAdmin(request)
        let body = try await api.jsonBody(of: request)
        if body["secret"] != nil || body["signing"] != nil || body["pusherApp"] != nil {
            throw SwitchboardError(
                .badRequest,
                "secrets change with POST /v1/endpoints/{id}/rotate-secret; signing and pusherApp do not change"
            )
        }
        var endpoint = try await endpoint(in: context)
        endpoint.settings = try EndpointSettings(json: body, base: endpoint.settings)
        if endpoint.signingKey.pusherApp != nil {
            endpoint.settings = try PusherEndpoint.withJournals(endpoint.settings, body: body, isNew: false)
        }
        endpoint.updated = api.engine.ambient.wallClock()
        return try await save(endpoint, secret: nil)
    }

    @Sendable func remove(_ request: Request, context: Context) async throws -> Response {
        try await api.requireAdmin(request)
        guard try await api.engine.deleteEndpoint(id: try context.parameters.require("id")) else {
            throw SwitchboardError(.notFound, "no such endpoint")
        }
        return Response(status: .noContent)
    }

    /// What a receiver configures, shown on request (the console's "reveal"): `{"secret":"whsec_…"}`
    /// (for an Ed25519 endpoint, its `whpk_…` public key).
    @Sendable func secret(_ request: Request, context: Context) async throws -> Response {
        try await api.requireAdmin(request)
        let endpoint = try await endpoint(in: context)
        guard let secret = Self.secretText(endpoint.signingKey) else { throw PusherEndpoint.signedByAppSecret }
        return APIContext.json(
            JSONValue.object([("secret", .string(secret))]).jsonText,
            headers: [.cacheControl: "no-store"]
        )
    }

    @Sendable func rotateSecret(_ request: Request, context: Context) async throws -> Response {
        try await api.requireAdmin(request)
        var endpoint = try await endpoint(in: context)
        let body = try await api.optionalJSONBody(of: request)
        var generator = api.engine.ambient.randomNumberGenerator
        let next: WebhookSigningKey
        switch (endpoint.signingKey, body?["secret"]) {
        case (.hmac, .none): next = .hmac(WebhookSecret.random(using: &generator))
        case (.hmac, .some(.string(let text))): next = .hmac(try WebhookSecret(text))
        case (.ed25519, .none): next = .newEd25519()
        case (.ed25519, .some):
            // A well-formed request the endpoint's current signing cannot take.
            throw SwitchboardError(.conflict, "an Ed25519 endpoint makes its own key: send no secret")
        case (.pusher, _): throw PusherEndpoint.signedByAppSecret
        default: throw SwitchboardError(.badRequest, "the body may hold {\"secret\":\"whsec_…\"} for an HMAC endpoint")
        }
        let now = api.engine.ambient.wallClock()
        endpoint.previousKey = endpoint.signingKey
        endpoint.previousKeyExpires = Timestamp(
            millisecondsSinceEpoch: now.millisecondsSinceEpoch
                + api.engine.configuration.webhooks.rotationOverlap.wholeMilliseconds
        )
        endpoint.signingKey = next
        endpoint.updated = now
        return try await save(endpoint, secret: Self.secretText(next))
    }

    @Sendable func enable(_ request: Request, context: Context) async throws -> Response {
        try await api.requireAdmin(request)
        let id = try context.parameters.require("id")
        guard try await api.engine.enableEndpoint(id: id) else { throw SwitchboardError(.notFound, "no such endpoint") }
        return APIContext.json(WebhookJSON.endpoint(try await endpoint(in: context)).jsonText)
    }

    @Sendable func disable(_ request: Request, context: Context) async throws -> Response {
        try await api.requireAdmin(request)
        let id = try context.parameters.require("id")
        guard try await api.engine.disableEndpoint(id: id, reason: "disabled by an operator") else {
            throw SwitchboardError(.notFound, "no such endpoint")
        }
        return APIContext.json(WebhookJSON.endpoint(try await endpoint(in: context)).jsonText)
    }

    @Sendable func test(_ request: Request, context: Context) async throws -> Response {
        try await api.requireAdmin(request)
        let endpoint = try await endpoint(in: context)
        guard endpoint.signingKey.pusherApp == nil else {
            throw SwitchboardError(
                .conflict,
                "a Pusher endpoint receives only Pusher's webhook events: subscribe a client to see channel_occupied"
            )
        }
        var generator = api.engine.ambient.randomNumberGenerator
        let now = api.engine.ambient.wallClock()
        let event = Event(
            id: EventID.random(using: &generator),
            channel: try ChannelName("$system"),
            offset: 0,
            type: try EventType("switchboard.test"),
            time: now,
            data: JSONValue.object([
                ("endpoint", .string(endpoint.id)), ("message", .string("a test delivery from Switchboard")),
            ])
            .jsonText
        )
        let delivery = try await api.engine.enqueueDirect(endpoint: endpoint.id, event: event)
        return APIContext.json(
            JSONValue.object([("delivery", .string(delivery)), ("event", .string(event.id.rawValue))]).jsonText,
            status: .accepted
        )
    }

    private func save(_ endpoint: Endpoint, secret: String?) async throws -> Response {
        guard try await api.engine.updateEndpoint(endpoint) else {
            throw SwitchboardError(.notFound, "no such endpoint")
        }
        // Read back: the worker may have changed its enabled state meanwhile.
        let stored = try await api.engine.adminStore.endpoint(id: endpoint.id) ?? endpoint
        return APIContext.json(WebhookJSON.endpoint(stored, secret: secret).jsonText)
    }

    private func endpoint(in context: Context) async throws -> Endpoint {
        guard let endpoint = try await api.engine.adminStore.endpoint(id: try context.parameters.require("id")) else {
            throw SwitchboardError(.notFound, "no such endpoint")
        }
        return endpoint
    }

    /// What a receiver configures: the `whsec_…` secret, or the `whpk_…` public key for Ed25519; nil
    /// for a Pusher endpoint (its app's secret is the configuration's).
    private static func secretText(_ key: WebhookSigningKey) -> String? {
        if key.pusherApp != nil { return nil }
        return key.publicKeyText ?? key.storedText
    }
}

import HTTPTypes
import Hummingbird
import SwitchboardCore
import SwitchboardEngine
import SwitchboardStore

/// Deliveries and their attempts: list, read, retry one, replay many (admin only).
struct DeliveriesController<Context: RequestContext>: Sendable {
    let api: APIContext

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("endpoints/{id}/deliveries", use: list)
        group.post("endpoints/{id}/replay", use: replay)
        group.get("deliveries/{id}", use: read)
        group.post("deliveries/{id}/retry", use: retry)
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        try await api.requireAdmin(request)
        let endpoint = try await existingEndpoint(in: context)
        let query = request.uri.queryParameters
        let status = try query["status"].map { text throws(SwitchboardError) in
            try DeliveryStatus(parsing: String(text))
        }
        var limit = 50
        if let text = query["limit"] {
            guard let value = Int(text), (1...1000).contains(value) else {
                throw SwitchboardError(.badRequest, "limit is 1 to 1000")
            }
            limit = value
        }
        let page = try await api.engine.deliveries.deliveries(
            endpoint: endpoint,
            status: status,
            before: query["before"].map(String.init),
            limit: limit
        )
        let next: JSONValue = page.count == limit ? page.last.map { .string($0.id) } ?? .null : .null
        return APIContext.json(
            JSONValue.object([("deliveries", .array(page.map(WebhookJSON.delivery))), ("next", next)]).jsonText
        )
    }

    @Sendable func read(_ request: Request, context: Context) async throws -> Response {
        try await api.requireAdmin(request)
        guard let delivery = try await api.engine.deliveries.delivery(id: try context.parameters.require("id")) else {
            throw SwitchboardError(.notFound, "no such delivery")
        }
        return APIContext.json(WebhookJSON.delivery(delivery).jsonText)
    }

    @Sendable func retry(_ request: Request, context: Context) async throws -> Response {
        try await api.requireAdmin(request)
        let id = try context.parameters.require("id")
        guard let delivery = try await api.engine.retryDelivery(id: id) else {
            throw SwitchboardError(.notFound, "no such delivery")
        }
        return APIContext.json(WebhookJSON.delivery(delivery).jsonText, status: .accepted)
    }

    @Sendable func replay(_ request: Request, context: Context) async throws -> Response {
        try await api.requireAdmin(request)
        let endpoint = try await existingEndpoint(in: context)
        let body = try await api.jsonBody(of: request)
        let selection = try ReplaySelection(json: body)
        if body["dryRun"] == .bool(true) {
            let count = try await api.engine.deliveries.countReplayable(endpoint: endpoint, selection: selection)
            return APIContext.json(JSONValue.object([("matching", .int(Int64(count)))]).jsonText)
        }
        let count = try await api.engine.replayDeliveries(endpoint: endpoint, selection: selection)
        return APIContext.json(JSONValue.object([("replayed", .int(Int64(count)))]).jsonText, status: .accepted)
    }

    private func existingEndpoint(in context: Context) async throws -> String {
        let id = try context.parameters.require("id")
        guard try await api.engine.adminStore.endpoint(id: id) != nil else {
            throw SwitchboardError(.notFound, "no such endpoint")
        }
        return id
    }
}

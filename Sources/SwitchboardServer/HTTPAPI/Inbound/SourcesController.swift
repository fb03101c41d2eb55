import HTTPTypes
import Hummingbird
import SwitchboardCore
import SwitchboardEngine

/// `/v1/sources…`: inbound webhook sources and their latest requests (admin only). Sources of the
/// configuration file are listed and inspected here, but changed only in the file.
struct SourcesController<Context: RequestContext>: Sendable {
    let api: APIContext

    func addRoutes(to group: RouterGroup<Context>) {
        group.post("sources", use: create)
        group.get("sources", use: list)
        group.get("sources/{name}", use: read)
        group.patch("sources/{name}", use: change)
        group.delete("sources/{name}", use: remove)
        group.get("sources/{name}/requests", use: requests)
    }

    @Sendable func create(_ request: Request, context: Context) async throws -> Response {
        try await api.requireAdmin(request)
        let source = try InboundSource(json: try await api.jsonBody(of: request))
        try await api.engine.inbound.create(source, at: api.engine.ambient.wallClock())
        return APIContext.json(Self.json(source, origin: .api).jsonText, status: .created)
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        try await api.requireAdmin(request)
        let sources = try await api.engine.inbound.all()
        return APIContext.json(
            JSONValue.object([("sources", .array(sources.map { Self.json($0.source, origin: $0.origin) }))]).jsonText
        )
    }

    @Sendable func read(_ request: Request, context: Context) async throws -> Response {
        try await api.requireAdmin(request)
        let (source, origin) = try await source(in: context)
        return APIContext.json(Self.json(source, origin: origin).jsonText)
    }

    @Sendable func change(_ request: Request, context: Context) async throws -> Response {
        try await api.requireAdmin(request)
        let body = try await api.jsonBody(of: request)
        let changed = try await api.engine.inbound.update(
            name: try context.parameters.require("name"),
            at: api.engine.ambient.wallClock()
        ) { base in try InboundSource(json: body, base: base) }
        return APIContext.json(Self.json(changed, origin: .api).jsonText)
    }

    @Sendable func remove(_ request: Request, context: Context) async throws -> Response {
        try await api.requireAdmin(request)
        try await api.engine.inbound.delete(name: try context.parameters.require("name"))
        return Response(status: .noContent)
    }

    @Sendable func requests(_ request: Request, context: Context) async throws -> Response {
        try await api.requireAdmin(request)
        let (source, _) = try await source(in: context)
        let records = await api.engine.inbound.requests(of: source.name)
        return APIContext.json(
            JSONValue.object([("source", .string(source.name)), ("requests", .array(records.map(\.json)))]).jsonText
        )
    }

    private func source(in context: Context) async throws -> (InboundSource, InboundSources.Origin) {
        let name = try context.parameters.require("name")
        guard let found = try await api.engine.inbound.source(named: name) else { throw InboundSources.notFound(name) }
        return (found.source, found.origin)
    }

    private static func json(_ source: InboundSource, origin: InboundSources.Origin) -> JSONValue {
        guard case .object(var members) = source.json else { return source.json }
        members.append(("managedBy", .string(origin.rawValue)))
        members.append(("url", .string("/v1/inbound/\(source.name)")))
        return .object(members)
    }
}

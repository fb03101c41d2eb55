import HTTPTypes
import Hummingbird
import SwitchboardCore
import SwitchboardEngine
import SwitchboardStore

/// `/v1/keys…`: API keys (admin only). A key is shown once, when made; only its SHA-256 is stored.
struct KeysController<Context: RequestContext>: Sendable {
    let api: APIContext

    func addRoutes(to group: RouterGroup<Context>) {
        group.post("keys", use: create)
        group.get("keys", use: list)
        group.delete("keys/{id}", use: revoke)
    }

    @Sendable func create(_ request: Request, context: Context) async throws -> Response {
        try await api.requireAdmin(request)
        let body = try await api.jsonBody(of: request)
        guard case .object(let members) = body else {
            throw SwitchboardError(.badRequest, "the body is a JSON object: {\"name\":…,\"scopes\":[…]}")
        }
        for (name, _) in members where name != "name" && name != "scopes" {
            throw SwitchboardError(.badRequest, "unknown field \(JSONWriter.quoted(name)): a key has name and scopes")
        }
        guard let name = body["name"]?.stringValue?.trimmingSpaces, (1...100).contains(name.count) else {
            throw SwitchboardError(.badRequest, "name is a string of 1 to 100 characters")
        }
        guard let items = body["scopes"]?.arrayValue, !items.isEmpty, items.count <= 100 else {
            throw SwitchboardError(
                .badRequest,
                "scopes is a list of 1 to 100 scopes: admin, publish:<pattern>, subscribe:<pattern>"
            )
        }
        var scopes: [Scope] = []
        for item in items {
            guard let text = item.stringValue else {
                throw SwitchboardError(
                    .badRequest,
                    "each scope is a string: admin, publish:<pattern>, subscribe:<pattern>"
                )
            }
            let scope = try Scope(text)
            if !scopes.contains(scope) { scopes.append(scope) }
        }
        var generator = api.engine.ambient.randomNumberGenerator
        let (key, record) = APIKeyRecord.make(
            name: name,
            scopes: scopes,
            created: api.engine.ambient.wallClock(),
            using: &generator
        )
        try await api.engine.adminStore.insertAPIKey(record)
        api.authenticator.keys.created(record.digest)
        var json = Self.json(record)
        if case .object(var members) = json {
            members.insert(("key", .string(key)), at: 1)
            json = .object(members)
        }
        return APIContext.json(json.jsonText, status: .created)
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        try await api.requireAdmin(request)
        let keys = try await api.engine.adminStore.listAPIKeys()
        return APIContext.json(JSONValue.object([("keys", .array(keys.map(Self.json)))]).jsonText)
    }

    @Sendable func revoke(_ request: Request, context: Context) async throws -> Response {
        try await api.requireAdmin(request)
        let id = try context.parameters.require("id")
        switch try await api.engine.adminStore.deleteAPIKey(id: id) {
        case .deleted:
            api.authenticator.keys.forget(keyID: id)
            return Response(status: .noContent)
        case .notFound:
            throw SwitchboardError(.notFound, "no API key \(id)")
        case .lastAdminKey:
            throw SwitchboardError(.conflict, "\(id) is the last admin key: create another admin key first")
        }
    }

    /// A key as listed: never the key itself, nor its digest.
    static func json(_ record: APIKeyRecord) -> JSONValue {
        .object([
            ("id", .string(record.id)), ("name", .string(record.name)),
            ("scopes", .array(record.scopes.map { .string($0.description) })),
            ("created", .string(record.created.description)),
            ("lastUsed", record.lastUsed.map { .string($0.description) } ?? .null),
        ])
    }
}

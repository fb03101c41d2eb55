import HTTPTypes
import Hummingbird
import SwitchboardCore
import SwitchboardEngine

/// `/v1/users/{user}/connections` (admin only): how many real-time connections a user has on this
/// server, and disconnecting them all (`4003` on WebSocket, the end of the stream on SSE).
struct UsersController<Context: RequestContext>: Sendable {
    let api: APIContext

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("users/{user}/connections", use: count)
        group.delete("users/{user}/connections", use: disconnect)
    }

    @Sendable func count(_ request: Request, context: Context) async throws -> Response {
        try await api.requireAdmin(request)
        let user = try context.parameters.require("user")
        let count = api.engine.connections.connectionCount(of: user)
        return APIContext.json(
            JSONValue.object([("user", .string(user)), ("connections", .int(Int64(count)))]).jsonText
        )
    }

    @Sendable func disconnect(_ request: Request, context: Context) async throws -> Response {
        try await api.requireAdmin(request)
        let user = try context.parameters.require("user")
        let count = api.engine.connections.disconnect(user: user, reason: "disconnected by an administrator")
        return APIContext.json(
            JSONValue.object([("user", .string(user)), ("disconnected", .int(Int64(count)))]).jsonText
        )
    }
}

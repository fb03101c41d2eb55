import HTTPTypes
import Hummingbird
import SwitchboardCore
import SwitchboardEngine

/// `GET /v1/channels/{channel}/presence`: who is present, for whoever may read the channel (a key or a
/// client token, as for history).
struct PresenceController<Context: RequestContext>: Sendable {
    let api: APIContext

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("channels/{channel}/presence", use: members)
    }

    @Sendable func members(_ request: Request, context: Context) async throws -> Response {
        let channel = try APIContext.channel(fromPathSegment: try context.parameters.require("channel"))
        let principal = try await api.readerPrincipal(of: request)
        try api.access.authorizeSubscribe(principal, to: channel)
        // The members of a channel that keeps no presence are not a resource here: 404.
        guard api.engine.configuration.namespaces.keepsPresence(channel) else {
            throw SwitchboardError(.notFound, "\(channel) keeps no presence: its namespace has no presence")
        }
        return APIContext.json(try await api.engine.presence.membersJSON(of: channel, op: false))
    }
}

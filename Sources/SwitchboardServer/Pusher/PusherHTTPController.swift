import HTTPTypes
import Hummingbird
import NIOCore
import SwitchboardCore
import SwitchboardEngine

/// The Pusher HTTP API (`/apps/{app_id}/…`), so that Pusher's server libraries (and Laravel's Pusher
/// broadcaster) publish into Switchboard unchanged: `events`, `batch_events`, and the channel queries.
/// Every request is signed with the app's secret (`PusherAPIAuthentication`). Events become
/// Switchboard events on the channel of the same name, so native WebSocket, SSE and long-poll clients
/// and webhook endpoints receive them too. Served only when a Pusher app is configured.
struct PusherHTTPController<Context: RequestContext>: Sendable {
    let api: APIContext
    let apps: PusherApps

    func addRoutes(to router: Router<Context>) {
        let group = router.group("apps/{app_id}")
        group.post("events", use: trigger)
        group.post("batch_events", use: triggerBatch)
        group.get("channels", use: channels)
        group.get("channels/{channel_name}", use: channel)
        group.get("channels/{channel_name}/users", use: users)
        group.post("users/{user_id}/terminate_connections", use: terminate)
        // Pusher's Python library posts this one without the app in the path: the key names the app.
        router.post("users/{user_id}/terminate_connections", use: terminate)
    }

    // MARK: Publishing

    @Sendable func trigger(_ request: Request, context: Context) async throws -> Response {
        let (app, body) = try await authenticated(request, context: context)
        let json = try APIContext.json(body)
        let channels: [String]
        if case .array(let items)? = json["channels"], json["channel"] == nil {
            channels = try items.map { item throws(SwitchboardError) in
                guard let name = item.stringValue else {
                    throw SwitchboardError(.invalidChannel, "\"channels\" must be a list of channel names")
                }
                return name
            }
        } else if case .string(let name)? = json["channel"], json["channels"] == nil {
            channels = [name]
        } else {
            throw SwitchboardError(.badRequest, "the body needs \"channels\" (a list) or \"channel\", not both")
        }
        guard (1...PusherChannel.maximumChannelsPerTrigger).contains(channels.count) else {
            throw SwitchboardError(
                .badRequest,
                "an event goes to 1 to \(PusherChannel.maximumChannelsPerTrigger) channels"
            )
        }
        var drafts: [EventDraft] = []
        for name in channels { drafts.append(try draft(json, channel: name, app: app)) }
        let ids = try await leftOut(json["socket_id"]?.stringValue, count: channels.count)
        try await publish(zip(drafts, ids).map { Self.identified($0, as: $1) }, app: app)
        return APIContext.json("{}")
    }

    @Sendable func triggerBatch(_ request: Request, context: Context) async throws -> Response {
        let (app, body) = try await authenticated(request, context: context)
        guard case .array(let items)? = try APIContext.json(body)["batch"] else {
            throw SwitchboardError(.badRequest, "the body must be {\"batch\":[…]}")
        }
        let largest = api.limits.maximumBatchSize
        guard (1...largest).contains(items.count) else {
            throw SwitchboardError(.badRequest, "a batch holds 1 to \(largest) events")
        }
        var drafts: [EventDraft] = []
        for (index, item) in items.enumerated() {
            do throws(SwitchboardError) {
                guard let name = item["channel"]?.stringValue else {
                    throw SwitchboardError(.invalidChannel, "\"channel\" is required and must be a string")
                }
                drafts.append(try draft(item, channel: name, app: app))
            } catch {
                throw error.at(index: index)
            }
        }
        for (index, item) in items.enumerated() {
            guard let socketID = item["socket_id"]?.stringValue,
                let id = try await leftOut(socketID, count: 1).first ?? nil
            else { continue }
            drafts[index] = Self.identified(drafts[index], as: id)
        }
        try await publish(drafts, app: app)
        return APIContext.json("{}")
    }

    /// A Pusher event (`name`, `data`) for one channel, checked as any publish is.
    private func draft(_ event: JSONValue, channel name: String, app: PusherApp) throws(SwitchboardError)
        -> EventDraft
    {
        let channel = try PusherChannel.name(name)
        guard let eventName = event["name"]?.stringValue else {
            throw SwitchboardError(.invalidType, "\"name\" is required and must be a string")
        }
        guard let data = event["data"]?.stringValue else {
            throw SwitchboardError(.badRequest, "\"data\" is required and must be a string")
        }
        if let socketID = event["socket_id"], !(socketID.stringValue.map(PusherChannel.isSocketID) ?? false) {
            throw SwitchboardError(.badRequest, "\"socket_id\" must be like 1234.5678")
        }
        let stored = PusherData.stored(from: data)
        guard stored.utf8.count <= api.limits.maximumDataBytes else {
            throw SwitchboardError(
                .tooLarge,
                "\"data\" is \(stored.utf8.count) bytes; the limit is \(api.limits.maximumDataBytes)"
            )
        }
        return EventDraft(
            channel: channel,
            type: try EventType(eventName),
            data: stored,
            idempotencyKey: nil,
            origin: .api(key: PusherChannel.origin(of: app))
        )
    }

    /// `draft` under the id a `socket_id`'s connection leaves out (unchanged without one).
    private static func identified(_ draft: EventDraft, as id: EventID?) -> EventDraft {
        guard let id else { return draft }
        return EventDraft(
            channel: draft.channel,
            type: draft.type,
            data: draft.data,
            idempotencyKey: id,
            origin: draft.origin
        )
    }

    /// Ids for `count` events that the connection with `socketID` leaves out, when it is on this node
    /// (nil ids otherwise: the events are published as usual).
    private func leftOut(_ socketID: String?, count: Int) async throws -> [EventID?] {
        guard let socketID else { return Array(repeating: nil, count: count) }
        var generator = api.engine.ambient.randomNumberGenerator
        return await api.pusherSockets.exclude(socketID: socketID, count: count, using: &generator)
    }

    private func publish(_ drafts: [EventDraft], app: PusherApp) async throws {
        try api.takePublishTokens(drafts.count, for: Principal(keyID: PusherChannel.origin(of: app)))
        _ = try await api.engine.publisher.publish(drafts)
    }

    // MARK: Channel queries

    @Sendable func channels(_ request: Request, context: Context) async throws -> Response {
        let (_, _) = try await authenticated(request, context: context)
        let query = request.uri.queryParameters
        let prefix = query["filter_by_prefix"].map(String.init) ?? ""
        let info = Set((query["info"].map(String.init) ?? "").split(separator: ",").map(String.init))
        guard info.isSubset(of: ["user_count"]) else {
            throw SwitchboardError(.badRequest, "info may only ask for user_count here")
        }
        if info.contains("user_count"), !prefix.hasPrefix("presence-") {
            throw SwitchboardError(.badRequest, "user_count needs filter_by_prefix=presence-")
        }
        var members: [String] = []
        for (channel, _) in api.engine.hub.occupiedChannels().sorted(by: { $0.channel.rawValue < $1.channel.rawValue })
        where channel.rawValue.hasPrefix(prefix) && !channel.rawValue.hasPrefix("$") {
            var fields: [String] = []
            if info.contains("user_count") {
                fields.append("\"user_count\":\(try await userIDs(in: channel).count)")
            }
            members.append("\(JSONValue.string(channel.rawValue).jsonText):{\(fields.joined(separator: ","))}")
        }
        return APIContext.json("{\"channels\":{\(members.joined(separator: ","))}}")
    }

    @Sendable func channel(_ request: Request, context: Context) async throws -> Response {
        let (_, _) = try await authenticated(request, context: context)
        let channel = try PusherChannel.name(try context.parameters.require("channel_name"))
        let info = Set(
            (request.uri.queryParameters["info"].map(String.init) ?? "").split(separator: ",").map(String.init)
        )
        guard info.isSubset(of: ["user_count", "subscription_count"]) else {
            throw SwitchboardError(.badRequest, "info may ask for user_count and subscription_count")
        }
        let isPresence = channel.rawValue.hasPrefix("presence-")
        if info.contains("user_count"), !isPresence {
            throw SwitchboardError(.badRequest, "user_count is for presence- channels")
        }
        let subscribers = api.engine.hub.subscriberCount(of: channel)
        var fields = ["\"occupied\":\(subscribers > 0)"]
        if info.contains("user_count") { fields.append("\"user_count\":\(try await userIDs(in: channel).count)") }
        if info.contains("subscription_count") { fields.append("\"subscription_count\":\(subscribers)") }
        return APIContext.json("{\(fields.joined(separator: ","))}")
    }

    @Sendable func users(_ request: Request, context: Context) async throws -> Response {
        let (_, _) = try await authenticated(request, context: context)
        let channel = try PusherChannel.name(try context.parameters.require("channel_name"))
        guard channel.rawValue.hasPrefix("presence-") else {
            throw SwitchboardError(.badRequest, "users are listed for presence- channels only")
        }
        let users = try await userIDs(in: channel).map { "{\"id\":\(JSONValue.string($0).jsonText)}" }
        return APIContext.json("{\"users\":[\(users.joined(separator: ","))]}")
    }

    /// The distinct users present in `channel` (none where the channel keeps no presence).
    private func userIDs(in channel: ChannelName) async throws -> [String] {
        guard channel.rawValue.hasPrefix("presence-") || api.engine.configuration.namespaces.keepsPresence(channel)
        else { return [] }
        var seen = Set<String>()
        return try await api.engine.presence.members(of: channel)
            .compactMap { (try? JSONParser.parse($0))?["user"]?.stringValue }
            .filter { seen.insert($0).inserted }
    }

    /// `POST /apps/{app_id}/users/{user_id}/terminate_connections`: closes every connection of this
    /// node signed in as the user (Pusher clients with 4009, native ones with 4003).
    @Sendable func terminate(_ request: Request, context: Context) async throws -> Response {
        let (_, _) = try await authenticated(request, context: context)
        let user = try context.parameters.require("user_id")
        _ = api.engine.connections.disconnect(user: user, reason: "connections terminated through the Pusher API")
        return APIContext.json("{}")
    }

    // MARK: Authentication

    /// The app named in the path, once the request's signature is checked, and the request's body.
    private func authenticated(_ request: Request, context: Context) async throws -> (PusherApp, ByteBuffer) {
        guard let parameters = PusherQuery.pairs(request.uri.query) else {
            throw SwitchboardError(.badRequest, "the query string is not valid percent-encoding")
        }
        let named =
            if let id = context.parameters.get("app_id") {
                apps.app(id: id)
            } else {
                parameters.first { $0.0 == "auth_key" }.flatMap { apps.app(key: $0.1) }
            }
        guard let app = named else { throw SwitchboardError(.notFound, "no Pusher app has this id") }
        let body = try await APIContext.body(of: request, upTo: api.limits.maximumRequestBytes)
        if let refusal = PusherAPIAuthentication.refusal(
            method: request.method.rawValue,
            path: request.uri.path,
            parameters: parameters,
            body: Array(body.readableBytesView),
            key: app.key,
            secret: app.secretBytes,
            now: api.engine.ambient.wallClock().millisecondsSinceEpoch / 1000
        ) {
            api.engine.metrics.refused(by: "pusher_signature")
            throw SwitchboardError(.unauthorized, refusal.description)
        }
        return (app, body)
    }
}

import Hummingbird
import SwitchboardCore
import SwitchboardEngine

extension SwitchboardApplication {
    /// The requests the router serves: the HTTP API under `/v1`, the operations endpoints and the
    /// browser files. (`GET /v1/sse`, WebSocket upgrades and single publishes are taken in front of the
    /// router by the connection's own handlers; the router keeps a route for the publish and for
    /// `/v1/ws` all the same.) `openapi.json` (SwitchboardWeb's assets) describes every API route here.
    static func makeRouter(
        api: APIContext,
        origins: OriginPolicy,
        configuration: ServerConfiguration
    ) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.middlewares.add(CORSMiddleware(origins: origins))
        router.middlewares.add(ProblemMiddleware())
        OperationsController<BasicRequestContext>(api: api, metricsRequireKey: configuration.metricsRequireKey)
            .addRoutes(to: router)
        ChannelEventsController<BasicRequestContext>(api: api).addRoutes(to: router.group("v1"))
        EndpointsController<BasicRequestContext>(api: api).addRoutes(to: router.group("v1"))
        DeliveriesController<BasicRequestContext>(api: api).addRoutes(to: router.group("v1"))
        EventStoryController<BasicRequestContext>(api: api).addRoutes(to: router.group("v1"))
        KeysController<BasicRequestContext>(api: api).addRoutes(to: router.group("v1"))
        PresenceController<BasicRequestContext>(api: api).addRoutes(to: router.group("v1"))
        UsersController<BasicRequestContext>(api: api).addRoutes(to: router.group("v1"))
        SourcesController<BasicRequestContext>(api: api).addRoutes(to: router.group("v1"))
        InboundController<BasicRequestContext>(api: api).addRoutes(to: router.group("v1"))
        WebController<BasicRequestContext>(
            source: WebAssetSource(directory: configuration.webDirectory),
            isDevelopmentMode: configuration.engine.isDevelopmentMode
        )
        .addRoutes(to: router)
        if configuration.pusherApps.isEnabled {
            PusherHTTPController<BasicRequestContext>(api: api, apps: configuration.pusherApps).addRoutes(to: router)
        }
        router.get("v1/ws") { _, _ -> Response in
            throw SwitchboardError(.badRequest, "GET /v1/ws needs a WebSocket upgrade (Upgrade: websocket)")
        }
        return router
    }
}

import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Prometheus
import SwitchboardCore
import SwitchboardEngine
import SwitchboardStore

/// `/healthz` (alive), `/readyz` (store reachable) and `/metrics` (Prometheus text).
struct OperationsController<Context: RequestContext>: Sendable {
    let api: APIContext
    let metricsRequireKey: Bool

    func addRoutes(to router: Router<Context>) {
        router.get("healthz") { _, _ in APIContext.json("{\"status\":\"ok\"}") }
        router.get("readyz") { _, _ in
            guard await api.engine.log.checkReadiness() else {
                throw SwitchboardError(.unavailable, "the store does not answer")
            }
            return APIContext.json("{\"status\":\"ready\"}")
        }
        router.get("metrics") { request, _ in
            if metricsRequireKey {
                let principal = try await api.principal(of: request)
                guard principal.isAdmin || api.engine.configuration.isDevelopmentMode else {
                    throw SwitchboardError(.forbidden, "/metrics needs an admin key")
                }
            }
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: api.engine.metrics.render()))
            )
        }
    }
}

import HTTPTypes
public import Hummingbird
import Logging
import NIOCore
import Prometheus
import SwitchboardCore
import SwitchboardEngine
import SwitchboardStore

/// Turns every error that escapes a route into problem+json: `SwitchboardError`s as they are,
/// Hummingbird's own (unknown route, body too large) into their codes, anything else into
/// `internal` (logged, never sent verbatim).
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as SwitchboardError {
            return try error.response(from: request, context: context)
        } catch let error as HTTPError {
            let mapped: SwitchboardError
            switch error.status.code {
            case 404: mapped = SwitchboardError(.notFound, "no such route: \(request.method) \(request.uri.path)")
            case 405: mapped = SwitchboardError(.notFound, "\(request.method) is not supported on \(request.uri.path)")
            case 413: mapped = SwitchboardError(.tooLarge, "the request body is too large")
            case 400..<500: mapped = SwitchboardError(.badRequest, error.body ?? "bad request")
            default: mapped = SwitchboardError(.internalError, "internal error")
            }
            return try mapped.response(from: request, context: context)
        } catch {
            context.logger.error("request failed", metadata: ["sb.error": "\(String(reflecting: type(of: error)))"])
            return try SwitchboardError(.internalError, "internal error").response(from: request, context: context)
        }
    }
}

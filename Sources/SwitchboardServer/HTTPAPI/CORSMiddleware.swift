import HTTPTypes
import Hummingbird
import SwitchboardCore

/// CORS for the HTTP API: answers preflights, and adds `Access-Control-Allow-Origin` to the answers
/// (problems included) of requests from allowed origins (`OriginPolicy`). Put it outside
/// `ProblemMiddleware`, so that an error reply carries the headers too and the page can read why.
struct CORSMiddleware<Context: RequestContext>: RouterMiddleware {
    let origins: OriginPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let origin = request.headers[.origin]
        let cors = origins.corsHeaders(origin: origin, host: request.head.authority)
        if request.method == .options, origin != nil, request.headers[.accessControlRequestMethod] != nil {
            var response = Response(status: .noContent)
            for (name, value) in cors + (cors.isEmpty ? [] : OriginPolicy.preflightHeaders) {
                if let field = HTTPField.Name(name) { response.headers[field] = value }
            }
            return response
        }
        var response = try await next(request, context)
        for (name, value) in cors {
            if let field = HTTPField.Name(name) { response.headers[field] = value }
        }
        return response
    }
}

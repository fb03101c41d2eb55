import HTTPTypes
public import Hummingbird
import Logging
import NIOCore
import Prometheus
public import SwitchboardCore
import SwitchboardEngine
import SwitchboardStore

/// Renders every refusal as RFC 9457 problem+json: the one place HTTP errors are written.
extension SwitchboardError: HTTPResponseError {
    /// The HTTP status of this error's code.
    public var status: HTTPResponse.Status { HTTPResponse.Status(code: code.httpStatus) }

    /// The problem+json response.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: Problem.contentType]
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        return Response(
            status: status,
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: Problem.json(for: self)))
        )
    }
}

public import Hummingbird
import HTTPTypes
public import SwitchboardCore
import Prometheus
import Logging
import SwitchboardStore
import SwitchboardEngine
import NIOCore

/// Renders every refusal as RFC 9457 problem+json: the one place HTTP errors are written.
extension SwitchboardError: HTTPResponseError {
    public var status: HTTPResponse.Status { HTTPResponse.Status(code: code.httpStatus) }

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

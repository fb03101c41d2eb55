import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Prometheus
import SwitchboardCore
import SwitchboardEngine
import SwitchboardStore

/// What every HTTP API handler needs: the engine, the authenticator and the access rules.
struct APIContext: Sendable {
    let engine: Engine
    let authenticator: Authenticator
    let publishRate: KeyRateLimiter

    var limits: Limits { engine.configuration.limits }
    var access: AccessPolicy { engine.configuration.accessPolicy }

    /// The principal behind the request's `Authorization` header; an API key is required (except in
    /// development mode).
    func principal(of request: Request) async throws(SwitchboardError) -> Principal {
        guard let credential = APIKeyAuthenticator.bearer(request.headers[.authorization]), !credential.isEmpty else {
            if engine.configuration.isDevelopmentMode { return .anonymous }
            throw SwitchboardError(.unauthorized, "an API key is required: Authorization: Bearer sbk_…")
        }
        return try await authenticator.keyPrincipal(for: credential)
    }

    /// Counts `count` events against the key's publish rate (`rate_limited` past it).
    func takePublishTokens(_ count: Int, for principal: Principal) throws(SwitchboardError) {
        do {
            try publishRate.take(count, for: principal)
        } catch {
            engine.metrics.refused(by: "key_publish_rate")
            throw error
        }
    }

    /// Requires an API key with the `admin` scope (or development mode).
    func requireAdmin(_ request: Request) async throws(SwitchboardError) {
        let principal = try await principal(of: request)
        guard principal.isAdmin || engine.configuration.isDevelopmentMode else {
            throw SwitchboardError(.forbidden, "this needs an API key with the admin scope")
        }
    }

    /// The principal of a reader (history, long-poll): like a real-time client, it may present its
    /// credential as `Authorization: Bearer` or `?token=`, or none at all, and the namespace decides.
    func readerPrincipal(of request: Request) async throws(SwitchboardError) -> Principal {
        let credential =
            APIKeyAuthenticator.bearer(request.headers[.authorization])
            ?? request.uri.queryParameters["token"].map(String.init)
        return try await authenticator.principal(for: credential)
    }

    /// The request body parsed as JSON, within the request size limit.
    func jsonBody(of request: Request) async throws -> JSONValue {
        guard let body = try await optionalJSONBody(of: request) else {
            throw SwitchboardError(.badRequest, "invalid JSON: the body is empty")
        }
        return body
    }

    /// The request body parsed as JSON, or nil when there is none.
    func optionalJSONBody(of request: Request) async throws -> JSONValue? {
        let buffer = try await Self.body(of: request, upTo: limits.maximumRequestBytes)
        guard buffer.readableBytes > 0 else { return nil }
        do {
            return try JSONParser.parse(Array(buffer.readableBytesView))
        } catch {
            throw SwitchboardError(.badRequest, "invalid JSON: \(error)")
        }
    }

    /// The raw request body, at most `limit` bytes: `too_large` past it, `bad_request` when it cannot be
    /// read (the client went away).
    static func body(of request: Request, upTo limit: Int) async throws(SwitchboardError) -> ByteBuffer {
        var request = request
        do {
            return try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw SwitchboardError(.tooLarge, "the request body is over \(limit) bytes")
        } catch {
            throw SwitchboardError(.badRequest, "the request body could not be read")
        }
    }

    /// A JSON response.
    static func json(_ text: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

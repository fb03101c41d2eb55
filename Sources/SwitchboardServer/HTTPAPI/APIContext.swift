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
    /// This node's Pusher connections by socket id (empty without a Pusher app).
    var pusherSockets = PusherSockets()

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

    /// What `principal(of:)` would answer for this `Authorization` header, when that is known without a
    /// lookup (development mode without a key, or an API key looked up moments ago); nil otherwise.
    func knownPrincipal(authorization: String?) -> Principal? {
        guard let credential = APIKeyAuthenticator.bearer(authorization), !credential.isEmpty else {
            return engine.configuration.isDevelopmentMode ? .anonymous : nil
        }
        guard credential.hasPrefix(APIKeyGenerator.prefix) else { return nil }
        return authenticator.keys.cachedPrincipal(for: credential)
    }

    /// The draft of a single publish (`POST /v1/channels/{channel}/events`) by `principal`: the body
    /// parsed, the event checked against the limits, the publish authorized and counted against the
    /// key's rate. Nothing is stored yet.
    func publishDraft(
        channelSegment: String,
        body: ByteBuffer,
        idempotencyKey: String?,
        by principal: Principal
    ) throws(SwitchboardError) -> EventDraft {
        let channel = try Self.channel(fromPathSegment: channelSegment)
        let draft = try EventDraft.parse(
            try Self.json(body),
            channel: channel,
            headerKey: idempotencyKey,
            limits: limits
        )
        .published(by: .api(key: principal.keyID))
        try access.authorizeAPIPublish(principal, to: channel)
        try takePublishTokens(1, for: principal)
        return draft
    }

    /// The answer to a single publish: `201` with the receipt, or `200` with `Idempotent-Replayed: true`
    /// when the idempotency key had been used.
    static func publishAnswer(_ receipts: [AppendReceipt]) throws(SwitchboardError) -> (
        status: Int, json: String, replayed: Bool
    ) {
        guard let receipt = receipts.first else { throw SwitchboardError(.internalError, "no receipt") }
        return (receipt.wasReplayed ? 200 : 201, receipt.json, receipt.wasReplayed)
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
        return try Self.json(buffer)
    }

    /// A whole request body parsed as JSON: `bad_request` when it is empty or not JSON.
    static func json(_ body: ByteBuffer) throws(SwitchboardError) -> JSONValue {
        guard body.readableBytes > 0 else { throw SwitchboardError(.badRequest, "invalid JSON: the body is empty") }
        do {
            return try JSONParser.parse(Array(body.readableBytesView))
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

    /// A `{channel}` path segment, percent-decoded: the router hands it over as sent, and a client
    /// that encodes path segments (`encodeURIComponent("chat:1")` is `chat%3A1`) means the same channel.
    static func channel(fromPathSegment segment: String) throws(SwitchboardError) -> ChannelName {
        guard let name = percentDecoded(segment) else {
            throw SwitchboardError(.invalidChannel, "the channel in the path is not valid percent-encoding")
        }
        return try ChannelName(name)
    }

    /// `text` with every `%XX` replaced by its byte; nil when an escape is malformed or the result is not UTF-8.
    private static func percentDecoded(_ text: String) -> String? {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return text }
        func hexValue(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        let input = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            if input[index] == UInt8(ascii: "%") {
                guard index + 2 < input.count, let high = hexValue(input[index + 1]),
                    let low = hexValue(input[index + 2])
                else { return nil }
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(input[index])
                index += 1
            }
        }
        return String(validating: output, as: UTF8.self)
    }
}

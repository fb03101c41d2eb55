import HTTPTypes
import NIOCore
import NIOWebSocket
import SwitchboardCore
import WSClient
import WSCore

/// A delivery the server relays to `switchboard listen`: the exact signed request to forward.
public struct RelayedWebhook: Sendable {
    /// `dlv_…`.
    public let delivery: String
    /// The request headers, signature included.
    public let headers: [(String, String)]
    /// The exact body that was signed.
    public let body: String
}

/// What the local app answered to a relayed delivery.
public struct RelayAnswer: Sendable {
    /// Its HTTP status, or nil when it could not be reached.
    public var status: Int?
    /// Why there was no answer.
    public var error: String?
    /// The start of its response body.
    public var body: String?

    /// Makes an answer.
    public init(status: Int?, error: String?, body: String?) {
        self.status = status
        self.error = error
        self.body = body
    }
}

extension SwitchboardClient {
    /// Takes the deliveries of the `relay://listen` endpoint `endpoint` over WebSocket, one at a time,
    /// answering each with what `onWebhook` returns; reconnects with backoff until cancelled.
    public func listen(
        endpoint: String,
        onState: @escaping @Sendable (ConnectionState) async -> Void = { _ in },
        onWebhook: @escaping @Sendable (RelayedWebhook) async -> RelayAnswer
    ) async throws {
        try await reconnecting(onState: onState) { onOpen in
            let close = try await connect() { inbound, outbound, _ in
                let listen = JSONValue.object([("op", .string("listen")), ("endpoint", .string(endpoint))])
                try await outbound.write(.text(listen.jsonText))
                for try await message in inbound.messages(maxSize: 1 << 22) {
                    guard case .text(let text) = message, let value = try? JSONParser.parse(text) else { continue }
                    switch value["op"]?.stringValue {
                    case "listening":
                        onOpen()
                        await onState(.open)
                    case "webhook":
                        guard let delivery = value["delivery"]?.stringValue, let body = value["body"]?.stringValue,
                            case .object(let fields)? = value["headers"]
                        else { continue }
                        let webhook = RelayedWebhook(
                            delivery: delivery,
                            headers: fields.compactMap { name, value in value.stringValue.map { (name, $0) } },
                            body: body
                        )
                        let answer = await onWebhook(webhook)
                        var reply: [(String, JSONValue)] = [
                            ("op", .string("relayed")), ("delivery", .string(delivery)),
                        ]
                        if let status = answer.status { reply.append(("status", .int(Int64(status)))) }
                        if let error = answer.error { reply.append(("error", .string(error))) }
                        if let body = answer.body { reply.append(("body", .string(String(body.prefix(4096))))) }
                        try await outbound.write(.text(JSONValue.object(reply).jsonText))
                    case "error":
                        let code = value["code"]?.stringValue
                        let fatal =
                            code == "forbidden" || code == "unauthorized" || code == "not_found"
                            || code == "bad_request"
                        throw ClientError(message: value["message"]?.stringValue ?? "refused", isFatal: fatal)
                    default:
                        continue
                    }
                }
            }
            if Self.isFatal(close) {
                throw ClientError(message: "closed by the server: \(close?.reason ?? "")", isFatal: true)
            }
        }
    }
}

import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Prometheus
import SwitchboardCore
import SwitchboardEngine
import SwitchboardStore

/// `POST /v1/channels/{channel}/events` (publish one) and `GET …/events` (history and long-poll).
struct ChannelEventsController<Context: RequestContext>: Sendable {
    let api: APIContext

    func addRoutes(to group: RouterGroup<Context>) {
        group.post("channels/{channel}/events", use: publish)
        group.get("channels/{channel}/events", use: history)
        group.post("events", use: publishBatch)
    }

    @Sendable func publish(_ request: Request, context: Context) async throws -> Response {
        let principal = try await api.principal(of: request)
        let channel = try Self.channel(in: context)
        let body = try await api.jsonBody(of: request)
        let draft = try EventDraft.parse(
            body,
            channel: channel,
            headerKey: request.headers[HTTPField.Name.idempotencyKey],
            limits: api.limits
        )
        .published(by: .api(key: principal.keyID))
        try api.access.authorizeAPIPublish(principal, to: channel)
        try api.takePublishTokens(1, for: principal)
        let receipts = try await api.engine.publisher.publish([draft])
        guard let receipt = receipts.first else { throw SwitchboardError(.internalError, "no receipt") }
        if receipt.wasReplayed {
            return APIContext.json(receipt.json, status: .ok, headers: [HTTPField.Name.idempotentReplayed: "true"])
        }
        return APIContext.json(receipt.json, status: .created)
    }

    @Sendable func publishBatch(_ request: Request, context: Context) async throws -> Response {
        let principal = try await api.principal(of: request)
        let body = try await api.jsonBody(of: request)
        guard case .array(let items) = body["events"] ?? .null else {
            throw SwitchboardError(.badRequest, "the body must be {\"events\":[…]}")
        }
        guard !items.isEmpty, items.count <= api.limits.maximumBatchSize else {
            throw SwitchboardError(.badRequest, "a batch holds 1 to \(api.limits.maximumBatchSize) events")
        }
        var drafts: [EventDraft] = []
        drafts.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            do {
                let draft = try EventDraft.parse(item, channel: nil, headerKey: nil, limits: api.limits)
                    .published(by: .api(key: principal.keyID))
                try api.access.authorizeAPIPublish(principal, to: draft.channel)
                drafts.append(draft)
            } catch {
                throw error.at(index: index)
            }
        }
        try api.takePublishTokens(drafts.count, for: principal)
        let receipts = try await api.engine.publisher.publish(drafts)
        let list = receipts.map(\.json).joined(separator: ",")
        return APIContext.json("{\"events\":[\(list)]}", status: .created)
    }

    @Sendable func history(_ request: Request, context: Context) async throws -> Response {
        let principal = try await api.readerPrincipal(of: request)
        let channel = try Self.channel(in: context)
        try api.access.authorizeSubscribe(principal, to: channel)
        let query = request.uri.queryParameters
        let after = try Self.integer(query["after"].map(String.init), name: "after", default: 0, range: 0...Int64.max)
        let limit = try Self.integer(
            query["limit"].map(String.init),
            name: "limit",
            default: 100,
            range: 1...Int64.max
        )
        let wait = try Self.integer(
            query["wait"].map(String.init),
            name: "wait",
            default: 0,
            range: 0...Int64(api.limits.maximumWaitSeconds)
        )
        let pageSize = Int(min(limit, Int64(api.limits.maximumHistoryPage)))
        let page = try await LongPoll(engine: api.engine).read(
            channel: channel,
            after: after,
            limit: pageSize,
            wait: .seconds(wait)
        )
        api.engine.metrics.deliveredLongPoll.increment(by: Int64(page.events.count))
        return APIContext.json(page.json)
    }

    /// The `{channel}` path segment, percent-decoded: the router hands it over as sent, and a client
    /// that encodes path segments (`encodeURIComponent("chat:1")` is `chat%3A1`) means the same channel.
    private static func channel(in context: Context) throws(SwitchboardError) -> ChannelName {
        let segment = context.parameters.get("channel") ?? ""
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

    private static func integer(_ text: String?, name: String, default value: Int64, range: ClosedRange<Int64>)
        throws(SwitchboardError) -> Int64
    {
        guard let text else { return value }
        guard let parsed = Int64(text), range.contains(parsed) else {
            throw SwitchboardError(
                .badRequest,
                "\(name) must be an integer within \(range.lowerBound)...\(range.upperBound == Int64.max ? "" : String(range.upperBound))"
            )
        }
        return parsed
    }
}

extension HTTPField.Name {
    /// `Idempotency-Key`: the publisher's key, which becomes the event id.
    static let idempotencyKey = HTTPField.Name("Idempotency-Key") ?? .contentType
    /// `Idempotent-Replayed: true` marks a response answered from an earlier publish.
    static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed") ?? .contentType
}

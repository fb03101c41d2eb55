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

    /// Also served without the router by `HTTPPublishHandler`, for the requests it can take; both
    /// build the draft and the answer with the same `APIContext` calls.
    @Sendable func publish(_ request: Request, context: Context) async throws -> Response {
        let principal = try await api.principal(of: request)
        let segment = context.parameters.get("channel") ?? ""
        let body = try await APIContext.body(of: request, upTo: api.limits.maximumRequestBytes)
        let draft = try api.publishDraft(
            channelSegment: segment,
            body: body,
            idempotencyKey: request.headers[HTTPField.Name.idempotencyKey],
            by: principal
        )
        let answer = try APIContext.publishAnswer(try await api.engine.publisher.publish([draft]))
        return APIContext.json(
            answer.json,
            status: .init(code: answer.status),
            headers: answer.replayed ? [HTTPField.Name.idempotentReplayed: "true"] : [:]
        )
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
        let channel = try APIContext.channel(fromPathSegment: context.parameters.get("channel") ?? "")
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

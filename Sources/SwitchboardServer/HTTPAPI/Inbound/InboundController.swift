import HTTPTypes
import Hummingbird
import SwitchboardCore
import SwitchboardEngine
import SwitchboardStore

/// `POST /v1/inbound/{source}`: a provider's webhook. The raw body is verified with the source's scheme
/// before anything is parsed; a verified request is published on the source's channel and answered
/// as soon as it is durable (202), a redelivery of a known delivery id with 200 and no new event.
/// Every outcome goes to the source's request log. No API key: the signature is the credential.
struct InboundController<Context: RequestContext>: Sendable {
    let api: APIContext

    func addRoutes(to group: RouterGroup<Context>) {
        group.post("inbound/{source}", use: receive)
    }

    @Sendable func receive(_ request: Request, context: Context) async throws -> Response {
        let name = try context.parameters.require("source")
        guard let (source, _) = try await api.engine.inbound.source(named: name) else {
            throw InboundSources.notFound(name)
        }
        let now = api.engine.ambient.wallClock()
        var deliveryID: String?
        var isVerified = false
        do {
            let buffer = try await APIContext.body(of: request, upTo: source.maximumBodyBytes)
            let inbound = InboundRequest(
                headers: request.headers.map { (name: $0.name.canonicalName, value: $0.value) },
                body: Array(buffer.readableBytesView)
            )
            let verified = InboundVerifier.verify(
                inbound,
                scheme: source.scheme,
                secrets: source.secrets,
                now: now.millisecondsSinceEpoch / 1000,
                toleranceSeconds: Int64(source.toleranceSeconds)
            )
            if case .failure(let rejection) = verified {
                throw SwitchboardError(.unauthorized, rejection.description)
            }
            isVerified = true
            // The source's body limit is the operator's choice for this provider: its events may be that
            // large (twice, for a body that is not JSON and is kept as an escaped string).
            let extracted: InboundSource.Extracted
            switch try source.interpret(
                inbound,
                maximumDataBytes: max(api.limits.maximumDataBytes, 2 * source.maximumBodyBytes)
            ) {
            case .event(let event):
                extracted = event
            case .challenge(let challenge):
                await record(.challengeAnswered, deliveryID: nil, source: name, at: now)
                return APIContext.json(JSONValue.object([("challenge", .string(challenge))]).jsonText)
            }
            deliveryID = extracted.deliveryID
            let receipts = try await api.engine.publisher.publish([extracted.draft])
            guard let receipt = receipts.first else { throw SwitchboardError(.internalError, "no receipt") }
            let outcome: InboundRequestRecord.Outcome =
                receipt.wasReplayed
                ? .duplicate(receipt.id, offset: receipt.offset) : .published(receipt.id, offset: receipt.offset)
            await record(outcome, deliveryID: deliveryID, source: name, at: now)
            return APIContext.json(receipt.json, status: receipt.wasReplayed ? .ok : .accepted)
        } catch let error as SwitchboardError {
            let outcome = InboundRequestRecord.Outcome.rejected(
                status: error.code.httpStatus,
                reason: error.detail,
                verified: isVerified
            )
            await record(outcome, deliveryID: deliveryID, source: name, at: now)
            throw error
        }
    }

    /// Adds the request to its source's log and counts it by outcome.
    private func record(
        _ outcome: InboundRequestRecord.Outcome,
        deliveryID: String?,
        source: String,
        at time: Timestamp
    ) async {
        await api.engine.inbound.record(
            InboundRequestRecord(time: time, deliveryID: deliveryID, outcome: outcome),
            for: source
        )
        api.engine.metrics.inboundRequests(outcome: outcome.metricLabel)
    }
}

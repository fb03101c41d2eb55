import HTTPTypes
import Hummingbird
import NIOCore
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
        let now = Engine.wallClock()
        var deliveryID: String?
        var isVerified = false
        do {
            var request = request
            let buffer: ByteBuffer
            do {
                buffer = try await request.collectBody(upTo: source.maximumBodyBytes)
            } catch is NIOTooManyBytesError {
                throw SwitchboardError(.tooLarge, "the body is over this source's \(source.maximumBodyBytes) bytes")
            } catch {
                throw SwitchboardError(.badRequest, "the body could not be read")
            }
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
                api.engine.metrics.inboundRequests(outcome: "rejected")
                throw SwitchboardError(.unauthorized, rejection.description)
            }
            isVerified = true
            if let challenge = source.slackChallenge(in: inbound) {
                await api.engine.inbound.record(
                    InboundRequestRecord(time: now, deliveryID: nil, outcome: .challengeAnswered),
                    for: name
                )
                return APIContext.json(JSONValue.object([("challenge", .string(challenge))]).jsonText)
            }
            // The source's body limit is the operator's choice for this provider: its events may be that
            // large (twice, for a body that is not JSON and is kept as an escaped string).
            let extracted = try source.event(
                from: inbound,
                maximumDataBytes: max(api.limits.maximumDataBytes, 2 * source.maximumBodyBytes)
            )
            deliveryID = extracted.deliveryID
            let receipts = try await api.engine.publisher.publish([extracted.draft])
            guard let receipt = receipts.first else { throw SwitchboardError(.internalError, "no receipt") }
            let outcome: InboundRequestRecord.Outcome =
                receipt.wasReplayed
                ? .duplicate(receipt.id, offset: receipt.offset) : .published(receipt.id, offset: receipt.offset)
            await api.engine.inbound.record(
                InboundRequestRecord(time: now, deliveryID: deliveryID, outcome: outcome),
                for: name
            )
            api.engine.metrics.inboundRequests(outcome: receipt.wasReplayed ? "duplicate" : "published")
            return APIContext.json(receipt.json, status: receipt.wasReplayed ? .ok : .accepted)
        } catch let error as SwitchboardError {
            await api.engine.inbound.record(
                InboundRequestRecord(
                    time: now,
                    deliveryID: deliveryID,
                    outcome: .rejected(status: error.code.httpStatus, reason: error.detail, verified: isVerified)
                ),
                for: name
            )
            if error.code != .unauthorized { api.engine.metrics.inboundRequests(outcome: "refused") }
            throw error
        }
    }
}

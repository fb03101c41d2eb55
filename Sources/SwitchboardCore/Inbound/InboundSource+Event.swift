public import Crypto

extension InboundSource {
    /// What a verified request is: an event to publish, or Slack's `url_verification`, whose
    /// `challenge` Slack expects echoed back and which is not an event.
    public enum Interpretation: Sendable {
        /// Publish this.
        case event(Extracted)
        /// Answer with this challenge.
        case challenge(String)
    }

    /// The event a verified request becomes, and the provider's delivery id when one was found.
    public struct Extracted: Sendable {
        /// The draft to publish; its idempotency key derives from the delivery id.
        public let draft: EventDraft
        /// The provider's delivery id (nil: the request is not deduplicated).
        public let deliveryID: String?
    }

    /// Turns a verified request into an event: the body as `data` (parsed JSON, or the body as a JSON
    /// string when it is not JSON), the type from `typeFrom` (characters an event type may not hold become
    /// `.`, so Shopify's `orders/create` is `orders.create`), and an idempotency key from the delivery id.
    /// The body is parsed once, for both.
    public func interpret(_ request: InboundRequest, maximumDataBytes: Int) throws(SwitchboardError)
        -> Interpretation
    {
        let parsed = try? JSONParser.parse(request.body)
        if scheme == .slack, let parsed, parsed["type"] == .string("url_verification"),
            let challenge = parsed["challenge"]?.stringValue
        {
            return .challenge(challenge)
        }
        return .event(try event(from: request, parsed: parsed, maximumDataBytes: maximumDataBytes))
    }

    private func event(from request: InboundRequest, parsed: JSONValue?, maximumDataBytes: Int)
        throws(SwitchboardError) -> Extracted
    {
        let data = (parsed ?? .string(String(decoding: request.body, as: UTF8.self))).jsonText
        guard data.utf8.count <= maximumDataBytes else {
            throw SwitchboardError(
                .tooLarge,
                "the event would be \(data.utf8.count) bytes; the limit is \(maximumDataBytes)"
            )
        }
        let type = typeFrom?.value(in: request, body: parsed).flatMap(Self.eventType) ?? defaultType
        let deliveryID = idFrom?.value(in: request, body: parsed)
        let key = deliveryID.map { id in
            // The channel is part of the key: after a source moves to another channel, a retry is a
            // new event there rather than a conflict with the old channel's key.
            let digest = Hex.encode(SHA256.hash(data: Array("\(channel.rawValue)\n\(id)".utf8)))
            return EventID(stored: EventID.inboundPrefix + name + "_" + digest.prefix(40))
        }
        return Extracted(
            draft: EventDraft(
                channel: channel,
                type: type,
                data: data,
                idempotencyKey: key,
                origin: .inbound(source: name)
            ),
            deliveryID: deliveryID
        )
    }

    /// `text` as an event type, with disallowed characters replaced by `.`; nil when nothing is left.
    static func eventType(_ text: String) -> EventType? {
        let cleaned = String(
            decoding: text.utf8.prefix(200).map {
                ChannelName.isAllowed($0) && $0 != UInt8(ascii: "=") ? $0 : UInt8(ascii: ".")
            },
            as: UTF8.self
        )
        return try? EventType(cleaned)
    }
}

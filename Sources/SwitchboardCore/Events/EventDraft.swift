/// An event a publisher asks to append: validated, not yet given an offset or time.
public struct EventDraft: Hashable, Sendable {
    /// The target channel.
    public let channel: ChannelName
    /// The event type.
    public let type: EventType
    /// The payload as compact JSON text.
    public let data: String
    /// The caller-chosen id (idempotency key), if any.
    public let idempotencyKey: EventID?
    /// Who publishes it (stored with the event for its story; not part of the canonical event).
    public var origin: EventOrigin

    /// Makes a draft from validated parts.
    public init(
        channel: ChannelName,
        type: EventType,
        data: String,
        idempotencyKey: EventID?,
        origin: EventOrigin = .server
    ) {
        self.channel = channel
        self.type = type
        self.data = data
        self.idempotencyKey = idempotencyKey
        self.origin = origin
    }

    /// This draft, published by `origin`.
    public func published(by origin: EventOrigin) -> EventDraft {
        var draft = self
        draft.origin = origin
        return draft
    }

    /// Validates one publish body (`{"type","data","id"?}`, plus `channel` when `channel` is nil) against limits.
    ///
    /// - Parameters:
    ///   - body: the parsed JSON object.
    ///   - channel: the channel from the URL, or nil when the body names it (batch items).
    ///   - headerKey: an `Idempotency-Key` header; it wins over a body `id`.
    public static func parse(
        _ body: JSONValue,
        channel: ChannelName?,
        headerKey: String?,
        limits: Limits
    ) throws(SwitchboardError) -> EventDraft {
        guard case .object = body else { throw SwitchboardError(.badRequest, "the body must be a JSON object") }
        let resolvedChannel: ChannelName
        if let channel {
            resolvedChannel = channel
        } else {
            guard let name = body["channel"]?.stringValue else {
                throw SwitchboardError(.invalidChannel, "\"channel\" is required and must be a string")
            }
            resolvedChannel = try ChannelName(name)
        }
        guard let typeText = body["type"]?.stringValue else {
            throw SwitchboardError(.invalidType, "\"type\" is required and must be a string")
        }
        let type = try EventType(typeText)
        guard let data = body["data"] else { throw SwitchboardError(.badRequest, "\"data\" is required") }
        let dataText = data.jsonText
        guard dataText.utf8.count <= limits.maximumDataBytes else {
            throw SwitchboardError(
                .tooLarge,
                "\"data\" is \(dataText.utf8.count) bytes; the limit is \(limits.maximumDataBytes)"
            )
        }
        var key: EventID?
        if let headerKey {
            key = try EventID(callerChosen: headerKey)
        } else if let id = body["id"] {
            guard let idText = id.stringValue else { throw SwitchboardError(.badRequest, "\"id\" must be a string") }
            key = try EventID(callerChosen: idText)
        }
        return EventDraft(channel: resolvedChannel, type: type, data: dataText, idempotencyKey: key)
    }
}

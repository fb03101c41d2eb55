import Crypto

extension EventDraft {
    /// This draft as published by a client with `principal` over WebSocket (PROTOCOL.md "Publishing").
    ///
    /// An API key's `id` is the event id, as over HTTP. A token holder's `id` is an idempotency key in
    /// that user's own key space: the event id is derived from the user and the key, under the reserved
    /// prefix `EventID.clientPrefix`, so no client can take, replace or block an id an API-key publisher
    /// uses, nor one of another user. An anonymous client may not send an id at all.
    public func scoped(to principal: Principal) throws(SwitchboardError) -> EventDraft {
        guard let key = idempotencyKey, principal.keyID == nil, !principal.isAdmin else { return self }
        guard let user = principal.user else {
            throw SwitchboardError(.badRequest, "an anonymous client cannot send an id; authenticate with a token")
        }
        let digest = Hex.encode(SHA256.hash(data: Array("\(user)\n\(key.rawValue)".utf8)))
        return EventDraft(
            channel: channel,
            type: type,
            data: data,
            idempotencyKey: EventID(stored: EventID.clientPrefix + digest.prefix(40)),
            origin: origin
        )
    }
}

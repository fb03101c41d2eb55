/// An event's unique id: server-made `evt_…`, or the publisher's idempotency key.
public struct EventID: Hashable, Sendable, CustomStringConvertible {
    /// The longest caller-chosen id accepted.
    public static let maximumLength = 200

    /// The id as written.
    public let rawValue: String

    /// Validates a caller-chosen id (an idempotency key): 1–200 printable ASCII characters.
    public init(callerChosen rawValue: String) throws(SwitchboardError) {
        guard !rawValue.isEmpty, rawValue.utf8.count <= Self.maximumLength,
            rawValue.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else {
            throw SwitchboardError(.badRequest, "an event id or Idempotency-Key is 1 to 200 printable ASCII characters")
        }
        // Inbound deliveries' and clients' keys derive from a provider's id or a user's key: a publisher
        // may not claim one ahead of them.
        for (prefix, owner) in [
            (Self.inboundPrefix, "inbound webhooks"), (Self.clientPrefix, "client publishes"),
            (Self.presencePrefix, "presence events"),
        ]
        where rawValue.hasPrefix(prefix) {
            throw SwitchboardError(.badRequest, "ids starting with \(prefix) are reserved for \(owner)")
        }
        self.rawValue = rawValue
    }

    /// The prefix of inbound webhook deliveries' ids, which publishers may not use.
    public static let inboundPrefix = "whin_"

    /// The prefix of the ids of `presence.join` and `presence.leave` events on a store several nodes
    /// share (one id per join and per leave, so that each is journaled once), which publishers may not use.
    public static let presencePrefix = "evp_"

    /// The prefix of the ids of events a client published with an `id` of its own (see
    /// `EventDraft.scoped(to:)`), which publishers may not use.
    public static let clientPrefix = "evu_"

    /// An id read back from the store.
    public init(stored rawValue: String) {
        self.rawValue = rawValue
    }

    /// A new random server id, `evt_` and 22 base-62 characters (about 131 bits).
    public static func random(using generator: inout some RandomNumberGenerator) -> EventID {
        EventID(stored: "evt_" + RandomToken.base62(count: 22, using: &generator))
    }

    /// The text form.
    public var description: String { rawValue }
}

/// Random base-62 strings for ids and keys.
public enum RandomToken {
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// `count` characters drawn uniformly from `0-9A-Za-z`.
    ///
    /// Eight random bytes are drawn per call of the generator (the system generator makes a system
    /// call each time), and a byte is used only when below 248 (4 × 62), so each character is uniform.
    public static func base62(count: Int, using generator: inout some RandomNumberGenerator) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(count)
        while bytes.count < count {
            var word = generator.next()
            for _ in 0..<8 where bytes.count < count {
                let byte = UInt8(truncatingIfNeeded: word)
                word >>= 8
                if byte < 248 { bytes.append(alphabet[Int(byte % 62)]) }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

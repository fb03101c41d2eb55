/// What verification sees of an inbound request: its headers and its raw body, exactly as received.
public struct InboundRequest: Sendable {
    private let headers: [String: String]
    /// The body bytes, unparsed: what the provider signed.
    public let body: [UInt8]

    /// Makes a request; header names are matched without regard to case. When a name repeats, the
    /// first value is kept. Svix's `svix-*` headers are also readable as `webhook-*`.
    public init(headers: [(name: String, value: String)], body: [UInt8]) {
        var byName: [String: String] = [:]
        for (name, value) in headers where byName[name.lowercased()] == nil {
            byName[name.lowercased()] = value
        }
        // Svix sends the Standard Webhooks headers under its own names. Read as the standard ones, they
        // replace any unsigned `webhook-*` beside them, so verification and the delivery id both see
        // the signed set.
        if byName["webhook-signature"] == nil, byName["svix-signature"] != nil {
            for part in ["id", "timestamp", "signature"] { byName["webhook-\(part)"] = byName["svix-\(part)"] }
        }
        self.headers = byName
        self.body = body
    }

    /// The value of header `name` (any case), nil when absent.
    public func header(_ name: String) -> String? {
        headers[name.lowercased()]
    }
}

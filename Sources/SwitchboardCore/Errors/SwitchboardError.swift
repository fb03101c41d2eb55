/// A refusal a client can act on; `code` is the wire name listed in PROTOCOL.md.
///
/// `detail` is safe to show to the client: it never contains secrets or payloads.
public struct SwitchboardError: Error, Hashable, Sendable {
    /// The stable, machine-readable reason, rendered with its PROTOCOL.md wire name.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String, Hashable, Sendable {
            case badRequest = "bad_request"
            case invalidChannel = "invalid_channel"
            case invalidType = "invalid_type"
            case tooLarge = "too_large"
            case unauthorized
            case forbidden
            case notFound = "not_found"
            case conflict
            case rateLimited = "rate_limited"
            case unavailable
            case internalError = "internal"
            case unknownOp = "unknown_op"
        }
        private let value: Value

        /// The request is malformed (bad JSON, missing or wrong field).
        public static let badRequest = Code(value: .badRequest)
        /// A channel name breaks the grammar.
        public static let invalidChannel = Code(value: .invalidChannel)
        /// An event type breaks the grammar.
        public static let invalidType = Code(value: .invalidType)
        /// An event or request is over its size limit.
        public static let tooLarge = Code(value: .tooLarge)
        /// Credentials are missing, wrong or expired.
        public static let unauthorized = Code(value: .unauthorized)
        /// Credentials are valid but do not allow this.
        public static let forbidden = Code(value: .forbidden)
        /// The thing asked for does not exist.
        public static let notFound = Code(value: .notFound)
        /// The request conflicts with the current state.
        public static let conflict = Code(value: .conflict)
        /// Too many requests; retry later.
        public static let rateLimited = Code(value: .rateLimited)
        /// The server cannot serve this now (store down, shutting down).
        public static let unavailable = Code(value: .unavailable)
        /// An internal failure; details are logged, never sent.
        public static let internalError = Code(value: .internalError)
        /// A WebSocket command with an `op` the server does not know.
        public static let unknownOp = Code(value: .unknownOp)

        /// The wire name, e.g. `invalid_channel`.
        public var description: String { value.rawValue }

        /// The HTTP status PROTOCOL.md assigns to this code.
        public var httpStatus: Int {
            switch value {
            case .badRequest, .invalidChannel, .invalidType, .unknownOp: 400
            case .unauthorized: 401
            case .forbidden: 403
            case .notFound: 404
            case .conflict: 409
            case .tooLarge: 413
            case .rateLimited: 429
            case .internalError: 500
            case .unavailable: 503
            }
        }

        /// The problem title shown next to the code.
        public var title: String {
            switch value {
            case .badRequest: "Bad request"
            case .invalidChannel: "Invalid channel name"
            case .invalidType: "Invalid event type"
            case .tooLarge: "Too large"
            case .unauthorized: "Unauthorized"
            case .forbidden: "Forbidden"
            case .notFound: "Not found"
            case .conflict: "Conflict"
            case .rateLimited: "Rate limited"
            case .unavailable: "Unavailable"
            case .internalError: "Internal error"
            case .unknownOp: "Unknown operation"
            }
        }
    }

    /// Why the request was refused.
    public let code: Code
    /// A human-readable explanation, safe to show.
    public let detail: String
    /// For a batch, the 0-based index of the first bad item.
    public var index: Int?
    /// For `rate_limited`, the seconds after which a retry may succeed.
    public var retryAfterSeconds: Int?

    /// Makes an error with a code and a detail.
    public init(_ code: Code, _ detail: String, index: Int? = nil, retryAfterSeconds: Int? = nil) {
        self.code = code
        self.detail = detail
        self.index = index
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// The same error, naming the batch item it came from.
    public func at(index: Int) -> SwitchboardError {
        var copy = self
        copy.index = index
        return copy
    }
}

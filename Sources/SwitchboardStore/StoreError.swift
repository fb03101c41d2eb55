/// An internal storage failure. Never sent to clients verbatim: the server maps it to `unavailable`
/// or `internal` and logs it.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    /// What failed, for logs.
    public let description: String

    /// Makes an error.
    public init(_ description: String) {
        self.description = description
    }
}

extension StoreError {
    /// What a store call's error says, for logs: for a database error its code and message, never the
    /// statement or its values (which hold event data and keys).
    public static func logText(_ error: any Error) -> String {
        postgresErrorText(error)
    }
}

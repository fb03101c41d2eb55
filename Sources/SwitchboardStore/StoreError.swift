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

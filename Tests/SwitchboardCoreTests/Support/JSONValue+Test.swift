@testable import SwitchboardCore

extension JSONValue {
    /// Parses `text`, for asserting on what the server writes.
    static func parsing(_ text: String) throws -> JSONValue {
        try JSONParser.parse(text)
    }

    /// The names of the members, in order, when this is an object.
    var memberNames: [String] {
        guard case .object(let members) = self else { return [] }
        return members.map(\.0)
    }
}

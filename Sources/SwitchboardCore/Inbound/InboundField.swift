/// Where a value is read from an inbound request: a header, or a field of the JSON body
/// (`json:data.object.id` walks objects by name).
public enum InboundField: Hashable, Sendable, CustomStringConvertible {
    /// A request header.
    case header(String)
    /// A dotted path into the JSON body.
    case json([String])

    /// Parses `header:<name>` or `json:<path>`.
    public init(_ text: String) throws(SwitchboardError) {
        // Compared as bytes: a combining mark right after the colon must not hide the prefix.
        let bytes = Array(text.utf8)
        if bytes.starts(with: "header:".utf8), bytes.count > 7 {
            self = .header(String(decoding: bytes.dropFirst(7), as: UTF8.self))
        } else if bytes.starts(with: "json:".utf8), bytes.count > 5 {
            let path = String(decoding: bytes.dropFirst(5), as: UTF8.self)
                .split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !path.contains(where: \.isEmpty) else {
                throw SwitchboardError(.badRequest, "\(JSONWriter.quoted(text)) has an empty path segment")
            }
            self = .json(path)
        } else {
            throw SwitchboardError(.badRequest, "\(JSONWriter.quoted(text)) must be header:<name> or json:<field path>")
        }
    }

    /// The value in `request` (whose body parsed as `body`, when JSON); strings as they are, numbers in
    /// their JSON form, nil when absent or empty.
    public func value(in request: InboundRequest, body: JSONValue?) -> String? {
        switch self {
        case .header(let name):
            guard let value = request.header(name)?.trimmingSpaces, !value.isEmpty else { return nil }
            return value
        case .json(let path):
            var current = body
            for name in path { current = current?[name] }
            switch current {
            case .string(let text) where !text.isEmpty: return text
            case .int(let number): return String(number)
            default: return nil
            }
        }
    }

    /// `header:<name>` or `json:<path>`.
    public var description: String {
        switch self {
        case .header(let name): "header:\(name)"
        case .json(let path): "json:" + path.joined(separator: ".")
        }
    }
}

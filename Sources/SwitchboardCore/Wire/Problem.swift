/// The RFC 9457 problem+json body of an HTTP error.
public enum Problem {
    /// The media type of a problem body.
    public static let contentType = "application/problem+json"

    /// `{"type":"urn:switchboard:error:<code>","title","status","detail","code"[,"index"]}`.
    public static func json(for error: SwitchboardError) -> String {
        var out = "{\"type\":\"urn:switchboard:error:\(error.code)\",\"title\":\(JSONWriter.quoted(error.code.title))"
        out +=
            ",\"status\":\(error.code.httpStatus),\"detail\":\(JSONWriter.quoted(error.detail)),\"code\":\"\(error.code)\""
        if let index = error.index { out += ",\"index\":\(index)" }
        out += "}"
        return out
    }
}

import Testing

@testable import SwitchboardCore

@Suite("Problem details")
struct ProblemTests {
    @Test("Errors are served as application/problem+json")
    func contentType() {
        #expect(Problem.contentType == "application/problem+json")
    }

    @Test("A problem has type, title, status, detail and code")
    func shape() throws {
        let body = try JSONValue.parsing(Problem.json(for: SwitchboardError(.invalidChannel, "bad name")))
        #expect(
            body
                == .object([
                    ("type", .string("urn:switchboard:error:invalid_channel")),
                    ("title", .string("Invalid channel name")),
                    ("status", .int(400)), ("detail", .string("bad name")), ("code", .string("invalid_channel")),
                ])
        )
    }

    @Test(
        "Each code has the one HTTP status the protocol gives it",
        arguments: [
            (SwitchboardError.Code.badRequest, "bad_request", 400),
            (.invalidChannel, "invalid_channel", 400),
            (.invalidType, "invalid_type", 400),
            (.unauthorized, "unauthorized", 401),
            (.forbidden, "forbidden", 403),
            (.notFound, "not_found", 404),
            (.conflict, "conflict", 409),
            (.tooLarge, "too_large", 413),
            (.rateLimited, "rate_limited", 429),
            (.internalError, "internal", 500),
            (.unavailable, "unavailable", 503),
        ]
    )
    func statusPerCode(code: SwitchboardError.Code, name: String, status: Int) throws {
        let body = try JSONValue.parsing(Problem.json(for: SwitchboardError(code, "d")))
        #expect(body["type"] == .string("urn:switchboard:error:\(name)"))
        #expect(body["code"] == .string(name))
        #expect(body["status"] == .int(Int64(status)))
        #expect(body["title"]?.stringValue?.isEmpty == false)
    }

    @Test("A batch error names the first bad item with index")
    func batchIndex() throws {
        let error = SwitchboardError(.invalidType, "bad type").at(index: 3)
        let body = try JSONValue.parsing(Problem.json(for: error))
        #expect(body["index"] == .int(3))
        #expect(body["code"] == .string("invalid_type"))
        #expect(try JSONValue.parsing(Problem.json(for: SwitchboardError(.invalidType, "x")))["index"] == nil)
    }

    @Test("The detail is escaped so the body stays valid JSON")
    func escapesDetail() throws {
        let detail = "quote \" backslash \\ newline \n control \u{1}"
        let body = try JSONValue.parsing(Problem.json(for: SwitchboardError(.badRequest, detail)))
        #expect(body["detail"] == .string(detail))
    }
}

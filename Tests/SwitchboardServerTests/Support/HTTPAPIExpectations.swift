import Foundation
import SwitchboardCore
import SwitchboardTestSupport
import Testing

/// PROTOCOL.md's one HTTP status per error code, written out here rather than read from the
/// sources, so that a drift in either is caught.
enum ProtocolErrorCode {
    static let status: [String: Int] = [
        "bad_request": 400, "invalid_channel": 400, "invalid_type": 400, "unauthorized": 401, "forbidden": 403,
        "not_found": 404, "conflict": 409, "too_large": 413, "rate_limited": 429, "internal": 500,
        "unavailable": 503,
    ]
}

extension JSONValue {
    /// The boolean when this is one.
    var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The member names, in order, when this is an object.
    var memberNameList: [String] {
        guard case .object(let members) = self else { return [] }
        return members.map(\.0)
    }
}

extension TestResponse {
    /// Checks that this response is PROTOCOL.md's problem+json for `code`: the code's one status,
    /// `content-type: application/problem+json`, and `type`, `title`, `status`, `detail`, `code`.
    /// Returns the parsed problem for further checks (`index`).
    @discardableResult
    func expectProblem(_ code: String, sourceLocation: SourceLocation = #_sourceLocation) -> JSONValue? {
        guard let expectedStatus = ProtocolErrorCode.status[code] else {
            Issue.record("\(code) is not a PROTOCOL.md error code", sourceLocation: sourceLocation)
            return nil
        }
        #expect(status == expectedStatus, "body: \(body)", sourceLocation: sourceLocation)
        let mediaType = headers["content-type"]?.split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        #expect(mediaType == "application/problem+json", sourceLocation: sourceLocation)
        guard let problem = try? json else {
            Issue.record("the problem body is not JSON: \(body)", sourceLocation: sourceLocation)
            return nil
        }
        #expect(problem["type"]?.stringValue == "urn:switchboard:error:\(code)", sourceLocation: sourceLocation)
        #expect(problem["code"]?.stringValue == code, "body: \(body)", sourceLocation: sourceLocation)
        #expect(problem["status"]?.intValue == Int64(expectedStatus), sourceLocation: sourceLocation)
        let title = problem["title"]?.stringValue ?? ""
        let detail = problem["detail"]?.stringValue ?? ""
        #expect(title.count > 0, sourceLocation: sourceLocation)
        #expect(detail.count > 0, sourceLocation: sourceLocation)
        return problem
    }
}

extension TestHTTP {
    /// A client for `server` that sends no `Authorization` header.
    static func anonymous(_ server: TestServer) -> TestHTTP {
        TestHTTP(baseURL: server.baseURL, key: nil)
    }

    /// `GET /v1/channels/{channel}/events?{query}`, which must answer 200; the parsed page.
    func historyPage(
        _ channel: String,
        query: String = "",
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> JSONValue {
        let response = try await request("GET", "/v1/channels/\(channel)/events" + (query.isEmpty ? "" : "?" + query))
        try #require(response.status == 200, "history answered \(response.status): \(response.body)")
        return try response.json
    }

    /// Every event stored in `channel`, from the start, in offset order.
    func storedEvents(_ channel: String) async throws -> [JSONValue] {
        try await historyPage(channel, query: "after=0&limit=1000")["events"]?.arrayValue ?? []
    }

    /// The value of one sample in `/metrics` (`name` or `name{labels}` exactly), nil when absent.
    func metric(_ sample: String) async throws -> Double? {
        let response = try await TestHTTP(baseURL: baseURL, key: key).request("GET", "/metrics")
        try #require(response.status == 200, "/metrics answered \(response.status)")
        for line in response.body.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            if parts.count >= 2, parts[0] == sample { return Double(parts[1]) }
        }
        return nil
    }

    /// How many events the server says it has committed since it started.
    func publishedTotal() async throws -> Double {
        try await metric("switchboard_events_published_total") ?? 0
    }
}

/// An RFC 3339 UTC time with exactly three fraction digits, as PROTOCOL.md writes every time.
func isProtocolTime(_ text: String?) -> Bool {
    guard let text else { return false }
    return text.wholeMatch(of: #/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/#) != nil
        && Timestamp(rfc3339: text) != nil
}

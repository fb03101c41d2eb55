import Foundation
public import SwitchboardCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A response as a test sees it.
public struct TestResponse: Sendable {
    /// HTTP status.
    public let status: Int
    /// Headers, names lower-cased.
    public let headers: [String: String]
    /// The body as text.
    public let body: String

    /// The body parsed as JSON.
    public var json: JSONValue {
        get throws { try JSONParser.parse(body) }
    }
}

/// A plain HTTP client over real sockets (URLSession), for end-to-end tests.
public struct TestHTTP: Sendable {
    /// `http://127.0.0.1:PORT`.
    public let baseURL: String
    /// Sent as `Authorization: Bearer …` when set.
    public let key: String?

    /// Makes a client.
    public init(baseURL: String, key: String?) {
        self.baseURL = baseURL
        self.key = key
    }

    /// A client for `server`, with its admin key.
    public init(_ server: TestServer, key: String? = nil) {
        self.init(baseURL: server.baseURL, key: key ?? server.adminKey)
    }

    /// Sends a request and returns the whole response.
    public func request(
        _ method: String,
        _ path: String,
        body: String? = nil,
        headers: [String: String] = [:],
        timeout: Double = 30
    ) async throws -> TestResponse {
        guard let url = URL(string: baseURL + path) else { throw TestServerError("bad URL \(path)") }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = method
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        let (data, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw TestServerError("not an HTTP response") }
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { fields[name.lowercased()] = value }
        }
        return TestResponse(status: http.statusCode, headers: fields, body: String(decoding: data, as: UTF8.self))
    }

    /// Publishes one event and returns the receipt; fails unless the status is 201.
    @discardableResult
    public func publish(_ channel: String, type: String = "test", data: String = "{}") async throws -> JSONValue {
        let response = try await request(
            "POST",
            "/v1/channels/\(channel)/events",
            body: "{\"type\":\"\(type)\",\"data\":\(data)}"
        )
        guard response.status == 201 else {
            throw TestServerError("publish answered \(response.status): \(response.body)")
        }
        return try response.json
    }
}

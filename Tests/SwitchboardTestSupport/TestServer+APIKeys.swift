import SwitchboardCore

extension TestServer {
    /// Creates an API key with `scopes` (e.g. `["publish:orders"]`) through `POST /v1/keys` with the
    /// admin key, and returns the key.
    public func addAPIKey(name: String = "test", scopes: [String]) async throws -> String {
        let body = JSONValue.object([("name", .string(name)), ("scopes", .array(scopes.map { .string($0) }))])
        let response = try await TestHTTP(self).request("POST", "/v1/keys", body: body.jsonText)
        guard response.status == 201, let key = try response.json["key"]?.stringValue else {
            throw TestServerError("creating a key answered \(response.status): \(response.body)")
        }
        return key
    }
}

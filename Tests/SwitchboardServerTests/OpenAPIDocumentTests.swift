import Foundation
import Hummingbird
import Logging
import SwitchboardCore
import SwitchboardEngine
import SwitchboardStore
import SwitchboardTestSupport
import SwitchboardWeb
import Testing

@testable import SwitchboardServer

/// The OpenAPI document against the code: the routes it describes are the routes the server serves,
/// and the document is served as it is kept in the repository. (Whether each answer matches its
/// description is checked by schemathesis against a live server, in the interop suite.)
@Suite("OpenAPI document")
struct OpenAPIDocumentTests {
    /// Requests served to browsers rather than API clients: not part of the document.
    static let browserFiles: Set<String> = [
        "GET /v1/client.js", "GET /v1/client.d.ts", "GET /console", "GET /console/console.js",
        "GET /console/console.css", "GET /examples/{name}",
    ]

    /// Routes answered in front of the router by the connection's own handlers.
    static let servedBeforeTheRouter: Set<String> = ["GET /v1/sse"]

    @Test("Every route the server serves is documented, and every documented operation is served")
    func routesMatchTheDocument() async throws {
        let served = try await Self.servedOperations()
        let documented = try Self.documentedOperations()
        let undocumented = served.subtracting(documented).sorted()
        let unserved = documented.subtracting(served).sorted()
        #expect(undocumented.isEmpty, "served but not in openapi.json: \(undocumented)")
        #expect(unserved.isEmpty, "in openapi.json but not served: \(unserved)")
    }

    @Test("The document lists exactly the problem codes the server can answer with, each with its status")
    func problemCodesMatch() throws {
        let document = try Self.document()
        let components = try #require(document["components"] as? [String: Any])
        let schemas = try #require(components["schemas"] as? [String: Any])
        let problem = try #require(schemas["Problem"] as? [String: Any])
        let properties = try #require(problem["properties"] as? [String: Any])
        var code = try #require(properties["code"] as? [String: Any])
        if let reference = code["$ref"] as? String {
            let name = try #require(reference.split(separator: "/").last.map(String.init))
            code = try #require(schemas[name] as? [String: Any])
        }
        let documented = Set(try #require(code["enum"] as? [String]))
        let httpCodes: [SwitchboardError.Code] = [
            .badRequest, .invalidChannel, .invalidType, .tooLarge, .unauthorized, .forbidden, .notFound,
            .conflict, .rateLimited, .unavailable, .internalError,
        ]
        #expect(documented == Set(httpCodes.map(\.description)))
    }

    @Test("The document is served to anyone at /v1/openapi.json, as kept in the repository")
    func served() async throws {
        try await TestServer.with { server in
            let response = try await TestHTTP.anonymous(server).request("GET", "/v1/openapi.json")
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "application/json")
            #expect(response.headers["access-control-allow-origin"] == "*")
            let asset = try #require(WebAssets.builtIn["openapi.json"])
            #expect(Array(response.body.utf8) == asset.bytes)
            let document = try #require(
                try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any]
            )
            #expect(document["openapi"] as? String == "3.1.0")
        }
    }

    /// `METHOD /path` for every operation of the document.
    static func documentedOperations() throws -> Set<String> {
        let paths = try #require(try document()["paths"] as? [String: Any])
        let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        var operations = Set<String>()
        for (path, item) in paths {
            let item = try #require(item as? [String: Any])
            for key in item.keys where methods.contains(key) { operations.insert("\(key.uppercased()) \(path)") }
        }
        return operations
    }

    static func document() throws -> [String: Any] {
        let asset = try #require(WebAssets.builtIn["openapi.json"])
        return try #require(try JSONSerialization.jsonObject(with: Data(asset.bytes)) as? [String: Any])
    }

    /// `METHOD /path` for every API route of the server's router, and the routes served before it.
    static func servedOperations() async throws -> Set<String> {
        let directory = FileManager.default.temporaryDirectory.path + "/switchboard-routes-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var configuration = ServerConfiguration(port: 0)
        configuration.engine.store.dataDirectory = directory
        let logger = Logger(label: "routes") { _ in SwiftLogNoOpLogHandler() }
        let engine = try await Engine.open(configuration: configuration.engine, logger: logger) { environment in
            try await SQLiteStorage.openStore(
                configuration: configuration.engine.store,
                environment: environment,
                logger: logger
            )
        }
        let api = APIContext(
            engine: engine,
            authenticator: Authenticator(
                keys: APIKeyAuthenticator(store: engine.adminStore, ambient: engine.ambient),
                tokens: nil
            ),
            publishRate: KeyRateLimiter(rate: 1, largestBatch: 1, clock: engine.ambient.monotonicClock)
        )
        let router = SwitchboardApplication.makeRouter(
            api: api,
            origins: OriginPolicy(allowedOrigins: [], isDevelopmentMode: false),
            configuration: configuration
        )
        let routes = Set(router.routes.map { "\($0.method.rawValue) \($0.path.description)" })
        await engine.close()
        return routes.subtracting(browserFiles).union(servedBeforeTheRouter)
    }
}

import HTTPTypes
import Hummingbird
import NIOCore
import SwitchboardCore
import SwitchboardWeb

/// Serves the browser-facing files: `/v1/client.js` (and its `.d.ts`) and the API's OpenAPI document
/// `/v1/openapi.json` to any page, the operator console at `/console`, and the example pages under
/// `/examples/` in development mode only.
struct WebController<Context: RequestContext>: Sendable {
    let source: WebAssetSource
    let isDevelopmentMode: Bool

    /// The console may load only itself: no inline script, no other origin, no framing.
    static var consolePolicy: String {
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    }

    static var referrerPolicy: HTTPField.Name { HTTPField.Name("Referrer-Policy") ?? .contentType }

    func addRoutes(to router: Router<Context>) {
        router.get("v1/client.js") { request, _ in try await serve("client.js", to: request, isPublic: true) }
        router.get("v1/client.d.ts") { request, _ in try await serve("client.d.ts", to: request, isPublic: true) }
        router.get("v1/openapi.json") { request, _ in try await serve("openapi.json", to: request, isPublic: true) }
        router.get("console") { request, _ in try await serve("console.html", to: request, policy: Self.consolePolicy) }
        router.get("console/console.js") { request, _ in try await serve("console.js", to: request) }
        router.get("console/console.css") { request, _ in try await serve("console.css", to: request) }
        router.get("examples/{name}") { request, context in
            let name = (try context.parameters.require("name")) + ".html"
            guard isDevelopmentMode, WebAssets.examples.contains(name) else {
                throw SwitchboardError(.notFound, "the examples are served in development mode (--dev) only")
            }
            return try await serve(name, to: request)
        }
    }

    /// The file with its validator; `304` when the browser's copy is current, gzip when accepted.
    private func serve(_ name: String, to request: Request, isPublic: Bool = false, policy: String? = nil)
        async throws -> Response
    {
        guard let asset = await source.asset(named: name) else {
            throw SwitchboardError(.notFound, "\(name) is missing from the web directory")
        }
        var headers: HTTPFields = [
            .contentType: asset.contentType, .eTag: asset.etag, .cacheControl: "no-cache",
            .vary: "Accept-Encoding", .xContentTypeOptions: "nosniff",
        ]
        if isPublic { headers[.accessControlAllowOrigin] = "*" }
        if let policy {
            headers[.contentSecurityPolicy] = policy
            headers[Self.referrerPolicy] = "no-referrer"
        }
        if Self.matches(request.headers[.ifNoneMatch], etag: asset.etag) {
            return Response(status: .notModified, headers: headers)
        }
        if Self.acceptsGzip(request.headers[.acceptEncoding]), let body = source.gzipped(asset) {
            headers[.contentEncoding] = "gzip"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: body))
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }

    /// Whether an `Accept-Encoding` value accepts gzip (`q=0` refuses it).
    static func acceptsGzip(_ header: String?) -> Bool {
        guard let header else { return false }
        for item in header.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.filter { $0 != " " && $0 != "\t" } }
            guard let coding = parts.first?.lowercased(), coding == "gzip" || coding == "x-gzip" else { continue }
            let quality = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            return quality > 0
        }
        return false
    }

    /// Whether an `If-None-Match` value names `etag` (or is `*`).
    static func matches(_ header: String?, etag: String) -> Bool {
        guard let header else { return false }
        return header.split(separator: ",").contains {
            let tag = $0.filter { $0 != " " && $0 != "\t" }
            return tag == "*" || tag == etag || tag == "W/" + etag
        }
    }
}

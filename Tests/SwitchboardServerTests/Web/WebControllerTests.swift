import CompressNIO
import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardTestSupport
import SwitchboardWeb
import Testing

@testable import SwitchboardServer

/// `/v1/client.js`, `/console` and the examples over real sockets: what is served, with which headers.
@Suite("Browser files")
struct WebControllerTests {
    @Test("The client module is served to any origin, with a validator that answers 304")
    func clientModule() async throws {
        try await TestServer.with { server in
            let http = TestHTTP.anonymous(server)
            let response = try await http.request("GET", "/v1/client.js")
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "text/javascript; charset=utf-8")
            #expect(response.headers["access-control-allow-origin"] == "*")
            #expect(response.headers["x-content-type-options"] == "nosniff")
            #expect(response.headers["cache-control"] == "no-cache")
            #expect(response.body.contains("export default class Switchboard"))
            let etag = try #require(response.headers["etag"])
            let again = try await http.request("GET", "/v1/client.js", headers: ["If-None-Match": etag])
            #expect(again.status == 304)
            #expect(again.body.isEmpty)
            let types = try await http.request("GET", "/v1/client.d.ts")
            #expect(types.status == 200)
            #expect(types.body.contains("export default class Switchboard"))
        }
    }

    @Test("The console is served with a policy that allows no inline script and no other origin")
    func console() async throws {
        try await TestServer.with { server in
            let http = TestHTTP.anonymous(server)
            let page = try await http.request("GET", "/console")
            #expect(page.status == 200)
            #expect(page.headers["content-type"] == "text/html; charset=utf-8")
            let policy = try #require(page.headers["content-security-policy"])
            #expect(policy.contains("script-src 'self'"))
            #expect(policy.contains("frame-ancestors 'none'"))
            #expect(!policy.contains("unsafe-inline"))
            #expect(page.body.contains("/console/console.js"))
            #expect(try await http.request("GET", "/console/console.js").status == 200)
            #expect(try await http.request("GET", "/console/console.css").status == 200)
            try await http.request("GET", "/console/secret.txt").expectProblem("not_found")
        }
    }

    @Test("The examples are served in development mode only")
    func examples() async throws {
        try await TestServer.with { server in
            let http = TestHTTP.anonymous(server)
            try await http.request("GET", "/examples/chat").expectProblem("not_found")
        }
        try await TestServer.with(configure: { $0.engine.isDevelopmentMode = true }) { server in
            let http = TestHTTP.anonymous(server)
            for name in ["chat", "orders"] {
                let page = try await http.request("GET", "/examples/\(name)")
                #expect(page.status == 200, "\(name)")
                #expect(page.body.contains("/v1/client.js"), "\(name)")
            }
            try await http.request("GET", "/examples/console").expectProblem("not_found")
            try await http.request("GET", "/examples/..%2Fadmin.key").expectProblem("not_found")
        }
    }

    @Test("With http.web_dir the files are read from that directory on every request")
    func webDirectory() async throws {
        let directory = FileManager.default.temporaryDirectory.path + "/switchboard-web-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("export const version = 1;".utf8).write(to: URL(fileURLWithPath: directory + "/client.js"))
        try await TestServer.with(configure: { $0.webDirectory = directory }) { server in
            let http = TestHTTP.anonymous(server)
            let first = try await http.request("GET", "/v1/client.js")
            #expect(first.body == "export const version = 1;")
            try Data("export const version = 2;".utf8).write(to: URL(fileURLWithPath: directory + "/client.js"))
            let second = try await http.request("GET", "/v1/client.js")
            #expect(second.body == "export const version = 2;")
            #expect(second.headers["etag"] != first.headers["etag"])
            // A file missing from the directory is not found, not the built-in copy.
            try await http.request("GET", "/console").expectProblem("not_found")
        }
    }

    @Test(
        "Accept-Encoding decides gzip; q=0 refuses it",
        arguments: [
            ("gzip", true), ("gzip, deflate, br", true), ("br;q=1.0, gzip;q=0.8", true), ("GZIP", true),
            ("gzip;q=0", false), ("gzip; q=0.000", false), ("deflate", false), ("", false), ("x-gzip", true),
        ]
    )
    func acceptsGzip(header: String, expected: Bool) {
        #expect(WebController<BasicRequestContext>.acceptsGzip(header) == expected)
    }

    @Test("If-None-Match matches the tag, its weak form, a list, or *")
    func conditionalMatch() {
        let tag = "\"abc-1\""
        typealias Controller = WebController<BasicRequestContext>
        #expect(Controller.matches(tag, etag: tag))
        #expect(Controller.matches("W/\"abc-1\"", etag: tag))
        #expect(Controller.matches("\"zzz\", \"abc-1\"", etag: tag))
        #expect(Controller.matches("*", etag: tag))
        #expect(!Controller.matches("\"abc-2\"", etag: tag))
        #expect(!Controller.matches(nil, etag: tag))
    }

    @Test("The gzip form decompresses to the file")
    func gzipRoundTrip() throws {
        let source = WebAssetSource(directory: nil)
        let asset = try #require(WebAssets.builtIn["client.js"])
        var compressed = try #require(source.gzipped(asset))
        #expect(compressed.readableBytes < asset.bytes.count / 2)
        let plain = try compressed.decompress(with: .gzip())
        #expect(Array(plain.readableBytesView) == asset.bytes)
    }
}

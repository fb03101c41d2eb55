import NIOHTTP1
import Testing

@testable import SwitchboardServer

/// Which requests the publish handler takes off the router, without sockets.
@Suite("HTTP publish route")
struct HTTPPublishRouteTests {
    private func head(
        _ method: HTTPMethod = .POST,
        _ uri: String = "/v1/channels/orders/events",
        version: HTTPVersion = .http1_1,
        _ headers: [(String, String)] = [("Content-Length", "20")]
    ) -> HTTPRequestHead {
        HTTPRequestHead(version: version, method: method, uri: uri, headers: HTTPHeaders(headers))
    }

    @Test("A plain publish is taken, with its channel segment as sent, its key and its length")
    func plainPublish() throws {
        let request = try #require(
            HTTPPublishRoute.request(
                head(.POST, "/v1/channels/chat%3A1/events?x=1", [("Content-Length", "20"), ("Idempotency-Key", "k")]),
                maximumBodyBytes: 100
            )
        )
        #expect(request.channelSegment == "chat%3A1")
        #expect(request.idempotencyKey == "k")
        #expect(request.contentLength == 20)
        #expect(request.keepAlive)
        #expect(
            HTTPPublishRoute.request(
                head(.POST, "/v1/channels/a/events", [("Content-Length", "0")]),
                maximumBodyBytes: 100
            ) != nil
        )
    }

    @Test("Other routes and methods go to the router")
    func otherRoutes() {
        for uri in [
            "/v1/channels//events", "/v1/channels/a/b/events", "/v1/channels/a/events/", "/v1/events",
            "/v1/channels/a/eventsx", "/v2/channels/a/events", "/v1/channels/events",
        ] {
            #expect(HTTPPublishRoute.request(head(.POST, uri), maximumBodyBytes: 100) == nil, "\(uri)")
        }
        #expect(HTTPPublishRoute.request(head(.GET), maximumBodyBytes: 100) == nil)
        #expect(HTTPPublishRoute.request(head(.PUT), maximumBodyBytes: 100) == nil)
        #expect(HTTPPublishRoute.request(head(version: .http1_0), maximumBodyBytes: 100) == nil)
    }

    @Test("What only the router answers right goes to it: CORS, Expect, chunked, oversized or unsized bodies, two keys")
    func routerCases() {
        let refused: [[(String, String)]] = [
            [("Content-Length", "20"), ("Origin", "https://example.com")],
            [("Content-Length", "20"), ("Expect", "100-continue")],
            [("Transfer-Encoding", "chunked")],
            [("Content-Length", "20"), ("Transfer-Encoding", "chunked")],
            [("Content-Length", "101")],
            [("Content-Length", "-1")],
            [("Content-Length", "twenty")],
            [],
            [("Content-Length", "20"), ("Content-Length", "20")],
            [("Content-Length", "20"), ("Idempotency-Key", "a"), ("Idempotency-Key", "b")],
        ]
        for headers in refused {
            #expect(
                HTTPPublishRoute.request(head(.POST, "/v1/channels/a/events", headers), maximumBodyBytes: 100) == nil,
                "\(headers)"
            )
        }
    }

    @Test("Connection: close is kept for the answer")
    func connectionClose() throws {
        let request = try #require(
            HTTPPublishRoute.request(
                head(.POST, "/v1/channels/a/events", [("Content-Length", "2"), ("Connection", "close")]),
                maximumBodyBytes: 100
            )
        )
        #expect(!request.keepAlive)
    }
}

/// The `Date` header's text.
@Suite("HTTP date")
struct HTTPDateTests {
    @Test("IMF-fixdate of known moments")
    func knownMoments() {
        #expect(HTTPDate.format(secondsSinceEpoch: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(secondsSinceEpoch: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(secondsSinceEpoch: 951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
        #expect(HTTPDate.format(secondsSinceEpoch: 4_102_444_799) == "Thu, 31 Dec 2099 23:59:59 GMT")
    }

    @Test("One string per second")
    func cachedPerSecond() {
        var date = HTTPDate()
        #expect(date.header(atMillisecondsSinceEpoch: 784_111_777_000) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(date.header(atMillisecondsSinceEpoch: 784_111_777_999) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(date.header(atMillisecondsSinceEpoch: 784_111_778_000) == "Sun, 06 Nov 1994 08:49:38 GMT")
    }
}

import Foundation
import SwitchboardCore
import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// The single publish served in front of the router, over real sockets: answers keep the order of
/// their requests however the two paths mix, a connection is closed when the client asks, and what the
/// handler does not take is answered by the router as before. The servers run on a clock that only
/// the test moves, so that a key looked up once stays cached and later publishes are taken in front of
/// the router however slow the machine.
@Suite("HTTP publish in front of the router", .timeLimit(.minutes(5)))
struct HTTPPublishHandlerTests {
    /// A publish request's head, for a body of `bodyBytes` bytes.
    private static func publishHead(_ channel: String, bodyBytes: Int, key: String, extra: String = "") -> String {
        "POST /v1/channels/\(channel)/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(key)\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(bodyBytes)\r\n\(extra)\r\n"
    }

    /// A whole publish request of an event whose `data` is the string `data`.
    private static func publish(_ channel: String, data: String, key: String, extra: String = "") -> String {
        let body = "{\"type\":\"t\",\"data\":\"\(data)\"}"
        return publishHead(channel, bodyBytes: body.utf8.count, key: key, extra: extra) + body
    }

    /// Runs `body` with a server on a clock only the test moves, whose admin key was looked up once
    /// through the router (so that later publishes with it are taken in front of the router), and a
    /// raw connection to it.
    private static func withWarmServer(_ body: (TestServer, TestRawSocket) async throws -> Void) async throws {
        try await TestServer.with(ambient: ManualClock().ambient) { server in
            try await TestHTTP(server).publish("warmup")
            try await body(server, try await TestRawSocket.connect(port: server.port))
        }
    }

    /// The status lines of the answers in `received`, in order.
    private static func statusLines(_ received: String) -> [String] {
        received.components(separatedBy: "HTTP/1.1 ").dropFirst().map {
            "HTTP/1.1 " + ($0.components(separatedBy: "\r\n").first ?? "")
        }
    }

    @Test("Pipelined publishes and reads are answered in the order they were sent")
    func pipelinedOrder() async throws {
        try await Self.withWarmServer { server, socket in
            let key = server.adminKey
            try await socket.send(
                Self.publish("orders", data: "one", key: key)
                    + "GET /v1/channels/orders/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(key)\r\n\r\n"
                    + Self.publish("orders", data: "two", key: key)
                    + Self.publish("orders", data: "three", key: key)
                    + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                    + Self.publish("orders", data: "four", key: key, extra: "Connection: close\r\n")
            )
            let received = try #require(await socket.readUntilClosed())
            #expect(
                Self.statusLines(received) == [
                    "HTTP/1.1 201 Created", "HTTP/1.1 200 OK", "HTTP/1.1 201 Created", "HTTP/1.1 201 Created",
                    "HTTP/1.1 200 OK", "HTTP/1.1 201 Created",
                ],
                "got \(received)"
            )
            // Each publish's answer names its own offset, and the read between them saw the first only.
            let offsets = received.components(separatedBy: "\"offset\":").dropFirst().map { $0.prefix(1) }
            #expect(offsets == ["1", "1", "2", "3", "4"], "got \(received)")
            let stored = try await TestHTTP(server).storedEvents("orders")
            #expect(stored.map { $0["data"]?.stringValue } == ["one", "two", "three", "four"])
        }
    }

    @Test("A body sent in pieces, larger than the first buffer, is read whole; one over the data limit is refused")
    func bodyInPieces() async throws {
        try await Self.withWarmServer { server, socket in
            let data = String(repeating: "x", count: 60_000)
            let body = "{\"type\":\"t\",\"data\":\"\(data)\"}"
            try await socket.send(Self.publishHead("orders", bodyBytes: body.utf8.count, key: server.adminKey))
            for piece in stride(from: 0, to: body.utf8.count, by: 7_000) {
                let end = min(piece + 7_000, body.utf8.count)
                try await socket.send(String(body.utf8.dropFirst(piece).prefix(end - piece)) ?? "")
            }
            let tooLarge = String(repeating: "y", count: 70_000)
            try await socket.send(
                Self.publish("orders", data: tooLarge, key: server.adminKey, extra: "Connection: close\r\n")
            )
            let received = try #require(await socket.readUntilClosed())
            #expect(
                Self.statusLines(received) == ["HTTP/1.1 201 Created", "HTTP/1.1 413 Payload Too Large"],
                "got \(received.prefix(600))"
            )
            let stored = try await TestHTTP(server).storedEvents("orders")
            #expect(stored.map { $0["data"]?.stringValue?.count } == [60_000])
        }
    }

    @Test("Connection: close is honoured: the answer comes, then the connection closes")
    func connectionClose() async throws {
        try await Self.withWarmServer { server, socket in
            try await socket.send(
                Self.publish("orders", data: "x", key: server.adminKey, extra: "Connection: close\r\n")
            )
            let received = try #require(await socket.readUntilClosed())
            #expect(received.hasPrefix("HTTP/1.1 201 Created\r\n"), "got \(received)")
            #expect(received.lowercased().contains("connection: close\r\n"))
            #expect(received.contains("Date: ") && received.contains("Server: Switchboard\r\n"))
        }
    }

    @Test("Refusals are problems on a connection that stays open; the next request is served")
    func refusalsKeepTheConnection() async throws {
        try await Self.withWarmServer { server, socket in
            let key = server.adminKey
            let broken = "{\"type\":"
            try await socket.send(
                Self.publishHead("orders", bodyBytes: broken.utf8.count, key: key) + broken
                    + Self.publish("bad%ZZ", data: "x", key: key)
                    + Self.publish("orders", data: "ok", key: key, extra: "Connection: close\r\n")
            )
            let received = try #require(await socket.readUntilClosed())
            #expect(
                Self.statusLines(received) == [
                    "HTTP/1.1 400 Bad Request", "HTTP/1.1 400 Bad Request", "HTTP/1.1 201 Created",
                ],
                "got \(received)"
            )
            #expect(received.contains("\"code\":\"bad_request\"") && received.contains("\"code\":\"invalid_channel\""))
            #expect(received.contains("Content-Type: application/problem+json\r\n"))
            #expect(try await TestHTTP(server).storedEvents("orders").map { $0["data"]?.stringValue } == ["ok"])
        }
    }

    @Test("A key's publish scope is checked on every publish, and a revoked key is refused at once")
    func scopesAndRevocation() async throws {
        try await TestServer.with(ambient: ManualClock().ambient) { server in
            let admin = TestHTTP(server)
            let created = try await admin.request(
                "POST",
                "/v1/keys",
                body: "{\"name\":\"orders only\",\"scopes\":[\"publish:orders\"]}"
            )
            let id = try #require(try created.json["id"]?.stringValue)
            let key = try #require(try created.json["key"]?.stringValue)
            let publisher = TestHTTP(baseURL: server.baseURL, key: key)
            // Twice: the second is taken in front of the router with the key looked up by the first.
            try await publisher.publish("orders")
            try await publisher.publish("orders")
            let forbidden = try await publisher.request(
                "POST",
                "/v1/channels/payments/events",
                body: "{\"type\":\"t\",\"data\":1}"
            )
            forbidden.expectProblem("forbidden")
            #expect(try await admin.request("DELETE", "/v1/keys/\(id)").status == 204)
            let revoked = try await publisher.request(
                "POST",
                "/v1/channels/orders/events",
                body: "{\"type\":\"t\",\"data\":1}"
            )
            revoked.expectProblem("unauthorized")
            #expect(try await admin.storedEvents("orders").count == 2)
            #expect(try await admin.storedEvents("payments").isEmpty)
        }
    }

    @Test("An idempotency key replays on both paths: 200 with Idempotent-Replayed, one event stored")
    func idempotentReplay() async throws {
        try await Self.withWarmServer { server, socket in
            let request = Self.publish("orders", data: "x", key: server.adminKey, extra: "Idempotency-Key: order-7\r\n")
            try await socket.send(request + request)
            let received = try #require(await socket.readUntil(containing: "Idempotent-Replayed: true"))
            #expect(Self.statusLines(received).prefix(2) == ["HTTP/1.1 201 Created", "HTTP/1.1 200 OK"])
            #expect(try await TestHTTP(server).storedEvents("orders").count == 1)
            await socket.close()
        }
    }

    @Test("An empty Idempotency-Key is refused as the router refuses it, not taken as no key")
    func emptyIdempotencyKey() async throws {
        try await Self.withWarmServer { server, socket in
            try await socket.send(
                Self.publish("empty-key", data: "x", key: server.adminKey, extra: "Idempotency-Key:\r\n")
            )
            let received = try #require(await socket.readUntil(containing: "bad_request"))
            #expect(Self.statusLines(received) == ["HTTP/1.1 400 Bad Request"])
            #expect(try await TestHTTP(server).storedEvents("empty-key").isEmpty)
            await socket.close()
        }
    }
}

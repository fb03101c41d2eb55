import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// Peers that send nothing, a byte at a time, or nothing more after a response: each is closed at its
/// deadline, and one address cannot hold more waiting connections than its cap.
/// A test that waits for an event the server never sends fails at the limit instead of hanging.
@Suite("Slow and idle peers", .timeLimit(.minutes(5)))
struct SlowPeerTests {
    private static func configure(_ configuration: inout ServerConfiguration) {
        configuration.timeouts.requestHeadSeconds = 1
        configuration.timeouts.idleSeconds = 2
        configuration.timeouts.maximumWaitingPerAddress = 3
    }

    @Test("A connection that sends nothing is closed at the request-head deadline, without a response")
    func silentConnection() async throws {
        try await TestServer.with(configure: Self.configure) { server in
            let socket = try await TestRawSocket.connect(port: server.port)
            #expect(await socket.readUntilClosed() == "")
        }
    }

    @Test("A connection sending its head a byte at a time is closed at the deadline, however it trickles")
    func trickle() async throws {
        let clock = ManualClock()
        try await TestServer.with(configure: Self.configure, ambient: clock.ambient) { server in
            let socket = try await TestRawSocket.connect(port: server.port)
            // The server counted the connection and set its 1 s deadline.
            await clock.waitForDeadline(.requestHead)
            // One byte every 200 ms would complete the head after about 7 s: the deadline comes first.
            for character in "GET /heal" {
                try? await socket.send(String(character))
                await clock.advance(by: .milliseconds(200))
            }
            #expect(await socket.readUntilClosed() == "")
        }
    }

    /// A head deadline far beyond the body's, so that only the body's can close these connections.
    private static func configureBody(_ configuration: inout ServerConfiguration) {
        configuration.timeouts.requestHeadSeconds = 30
        configuration.timeouts.requestBodySeconds = 3
    }

    @Test("A request whose body trickles a byte at a time is closed at the body deadline, without a response")
    func trickledBody() async throws {
        let clock = ManualClock()
        try await TestServer.with(configure: Self.configureBody, ambient: clock.ambient) { server in
            let socket = try await TestRawSocket.connect(port: server.port)
            await clock.waitForDeadline(.requestHead)
            try await socket.send(
                "POST /v1/channels/orders/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Authorization: Bearer \(server.adminKey)\r\nContent-Length: 40\r\n\r\n"
            )
            // The head is in: the body's 3 s deadline replaced the head's 30 s one.
            await clock.waitForDeadline(.requestHead, within: .seconds(3))
            // One body byte every 500 ms would take 20 s: the 3 s body deadline comes first.
            for character in #"{"type":"t","data":"#.prefix(8) {
                try? await socket.send(String(character))
                await clock.advance(by: .milliseconds(500))
            }
            #expect(await socket.readUntilClosed() == "")
            // Nothing was stored.
            let history = try await TestHTTP(server).request("GET", "/v1/channels/orders/events")
            #expect(history.status == 200)
            #expect(!history.body.contains("\"offset\":1"), "got \(history.body)")
        }
    }

    @Test("A body that arrives in pieces within the body deadline is served")
    func bodyInPieces() async throws {
        let clock = ManualClock()
        try await TestServer.with(configure: Self.configureBody, ambient: clock.ambient) { server in
            let socket = try await TestRawSocket.connect(port: server.port)
            await clock.waitForDeadline(.requestHead)
            let body = #"{"type":"t","data":1}"#
            try await socket.send(
                "POST /v1/channels/orders/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Authorization: Bearer \(server.adminKey)\r\nConnection: close\r\n"
                    + "Content-Length: \(body.utf8.count)\r\n\r\n"
            )
            await clock.waitForDeadline(.requestHead, within: .seconds(3))
            await clock.advance(by: .milliseconds(1500))
            try await socket.send(String(body.prefix(10)))
            await clock.advance(by: .milliseconds(1000))
            try await socket.send(String(body.dropFirst(10)))
            let received = await socket.readUntilClosed()
            #expect(received?.hasPrefix("HTTP/1.1 201") == true, "got \(received ?? "nothing")")
        }
    }

    @Test("A kept-alive connection is served, then closed once idle past the idle deadline")
    func idleKeepAlive() async throws {
        try await TestServer.with(configure: Self.configure) { server in
            let socket = try await TestRawSocket.connect(port: server.port)
            try await socket.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            let received = await socket.readUntilClosed()
            #expect(received?.hasPrefix("HTTP/1.1 200") == true, "got \(received ?? "nothing")")
        }
    }

    @Test("Past the cap of waiting connections per address a new one is closed at once; served ones do not count")
    func waitingCap() async throws {
        // No deadline passes unless the test moves this clock.
        let clock = ManualClock()
        try await TestServer.with(configure: Self.configure, ambient: clock.ambient) { server in
            let (closures, closed) = AsyncStream<Int>.makeStream()
            var sockets: [TestRawSocket] = []
            for index in 0..<4 {
                let socket = try await TestRawSocket.connect(port: server.port)
                socket.onClose { closed.yield(index) }
                sockets.append(socket)
            }
            // Exactly one of the four is closed at once: whichever the server counted last.
            var closedOnes = closures.makeAsyncIterator()
            let first = await closedOnes.next()
            #expect(first != nil)
            #expect(sockets.filter(\.isClosed).count == 1)
            let silent = sockets.filter { !$0.isClosed }
            // One of the others sends a request that is then served (a long-poll): it no longer waits,
            // so another connection fits. The poll's own deadline tells that the server is serving it.
            try await silent[0].send(
                "GET /v1/channels/orders/events?wait=30 HTTP/1.1\r\nHost: x\r\n"
                    + "Authorization: Bearer \(server.adminKey)\r\n\r\n"
            )
            await clock.waitForDeadline(.longPoll)
            let next = try await TestRawSocket.connect(port: server.port)
            try? await next.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let answer = await next.readUntilClosed()
            #expect(answer?.hasPrefix("HTTP/1.1 200") == true, "got \(answer ?? "nothing")")
            for socket in silent { await socket.close() }
        }
    }
}

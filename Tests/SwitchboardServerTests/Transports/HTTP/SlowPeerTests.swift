import SwitchboardCore
import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// Peers that send nothing, a byte at a time, or nothing more after a response: each is closed at its
/// deadline, and one address cannot hold more waiting connections than its cap.
@Suite("Slow and idle peers")
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
        try await TestServer.with(configure: Self.configure) { server in
            let socket = try await TestRawSocket.connect(port: server.port)
            let head = Array("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            // One byte every 200 ms would complete the head after about 7 s: the 1 s deadline comes first.
            for character in head.dropLast(2) where !socket.isClosed {
                try? await socket.send(String(character))
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(socket.isClosed)
            #expect(await socket.readUntilClosed() == "")
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
        try await TestServer.with(configure: {
            Self.configure(&$0)
            $0.timeouts.requestHeadSeconds = 600
            $0.timeouts.idleSeconds = 600
        }) { server in
            var sockets: [TestRawSocket] = []
            for _ in 0..<4 { sockets.append(try await TestRawSocket.connect(port: server.port)) }
            // Exactly one of the four is closed at once: whichever the server counted last.
            var closed = 0
            for _ in 0..<600 where closed == 0 {
                closed = sockets.filter(\.isClosed).count
                if closed == 0 { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(closed == 1)
            let silent = sockets.filter { !$0.isClosed }
            // One of the others sends a request that is still being served (a long-poll): it no longer
            // waits, so another connection fits.
            try await silent[0].send(
                "GET /v1/channels/orders/events?wait=30 HTTP/1.1\r\nHost: x\r\n"
                    + "Authorization: Bearer \(server.adminKey)\r\n\r\n"
            )
            var admitted = false
            for _ in 0..<600 where !admitted {
                let next = try await TestRawSocket.connect(port: server.port)
                try? await next.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                admitted = await next.readUntilClosed()?.hasPrefix("HTTP/1.1 200") == true
                if !admitted { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(admitted)
            for socket in silent { await socket.close() }
        }
    }
}

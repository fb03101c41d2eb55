import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// A test that waits for an event the server never sends fails at the limit instead of hanging.
@Suite("Flow control", .timeLimit(.minutes(5)))
struct SlowConsumerTests {
    @Test("A slow reader is closed with 4008 while a fast one on the same channel receives everything")
    func slowConsumerIsClosed() async throws {
        try await TestServer.with(configure: {
            $0.engine.isDevelopmentMode = true
            $0.engine.namespaces.defaultPolicy.mailboxBytes = 256 * 1024
            $0.engine.namespaces.defaultPolicy.mailboxEvents = 200
            // The slow reader reads its close frame only after the fast one is done: no cut-off before.
            $0.timeouts.closeSeconds = 600
        }) { server in
            let fast = try await TestWebSocket.connect(port: server.port)
            let slow = try await TestWebSocket.connect(port: server.port, receiveBufferSize: 4096)
            for socket in [fast, slow] {
                _ = await socket.nextText()
                try await socket.send(#"{"op":"subscribe","channel":"firehose"}"#)
                _ = await socket.nextText()
            }
            try await slow.setReading(false)

            let http = TestHTTP(server)
            let padding = String(repeating: "x", count: 4000)
            let batches = 8
            let perBatch = 500
            for _ in 0..<batches {
                let items = (0..<perBatch).map { _ in
                    "{\"channel\":\"firehose\",\"type\":\"t\",\"data\":\"\(padding)\"}"
                }
                let response = try await http.request(
                    "POST",
                    "/v1/events",
                    body: "{\"events\":[\(items.joined(separator: ","))]}"
                )
                #expect(response.status == 201)
            }
            let total = Int64(batches * perBatch)

            var fastOffset: Int64 = 0
            while fastOffset < total, let text = await fast.nextText() {
                let event = try JSONParser.parse(text)
                let offset = try #require(event["offset"]?.intValue)
                #expect(offset == fastOffset + 1)
                fastOffset = offset
            }
            #expect(fastOffset == total)

            try await slow.setReading(true)
            var slowOffset: Int64 = 0
            var closeCode: UInt16?
            while let message = await slow.next() {
                switch message {
                case .text(let text):
                    if let offset = try JSONParser.parse(text)["offset"]?.intValue { slowOffset = offset }
                case .close(let code):
                    closeCode = code
                case .ping:
                    continue
                }
                if closeCode != nil { break }
            }
            #expect(closeCode == 4008)
            #expect(slowOffset < total)

            // Reconnecting with its cursor, the slow reader loses nothing.
            let again = try await TestWebSocket.connect(port: server.port)
            _ = await again.nextText()
            try await again.send("{\"op\":\"subscribe\",\"channel\":\"firehose\",\"since\":\(slowOffset)}")
            _ = await again.nextText()
            var resumed = slowOffset
            while resumed < total, let text = await again.nextText() {
                let offset = try #require(try JSONParser.parse(text)["offset"]?.intValue)
                #expect(offset == resumed + 1)
                resumed = offset
            }
            #expect(resumed == total)
            for socket in [fast, slow, again] { await socket.drop() }
        }
    }

    @Test("Pongs count against the bounds: a peer that pings and never reads is closed with 4008")
    func pingingNonReaderIsClosed() async throws {
        try await TestServer.with(configure: {
            $0.engine.isDevelopmentMode = true
            $0.engine.limits.connectionCommandRate = 1_000_000
            $0.engine.namespaces.defaultPolicy.mailboxBytes = 64 * 1024
            // The close must not be cut before this test reads it.
            $0.timeouts.closeSeconds = 600
        }) { server in
            let socket = try await TestWebSocket.connect(port: server.port, receiveBufferSize: 4096)
            _ = await socket.nextText()
            try await socket.setReading(false)
            let payload = String(repeating: "p", count: 125)
            // Far more pong bytes than the bound and every buffer between; the server may close first.
            for _ in 0..<40_000 {
                do { try await socket.ping(payload) } catch { break }
            }
            try await socket.setReading(true)
            #expect(await socket.closeCode(timeout: 60) == 4008)
            await socket.drop()
        }
    }

    @Test("A client's close frame ends deliveries and frees its place, even when the peer never reads the reply")
    func closeFrameFromNonReaderIsReleased() async throws {
        let clock = ManualClock()
        try await TestServer.with(
            configure: {
                $0.engine.isDevelopmentMode = true
                $0.engine.limits.maximumConnectionsPerAddress = 1
                $0.engine.namespaces.defaultPolicy.mailboxBytes = 64 << 20
                $0.engine.namespaces.defaultPolicy.mailboxEvents = 1_000_000
                $0.timeouts.closeSeconds = 5
            },
            ambient: clock.ambient
        ) { server in
            let zombie = try await TestWebSocket.connect(port: server.port, receiveBufferSize: 4096)
            _ = await zombie.nextText()
            try await zombie.send(#"{"op":"subscribe","channel":"firehose"}"#)
            _ = await zombie.nextText()
            try await zombie.setReading(false)
            // Fill every buffer between the server and the reader that stopped: 8 MB, twice what the
            // kernel buffers, so the server's reply to the close frame waits behind unread data.
            let padding = String(repeating: "x", count: 4000)
            let items = (0..<500).map { _ in #"{"channel":"firehose","type":"t","data":"\#(padding)"}"# }
            for _ in 0..<4 {
                let response = try await TestHTTP(server).request(
                    "POST",
                    "/v1/events",
                    body: #"{"events":[\#(items.joined(separator: ","))]}"#
                )
                #expect(response.status == 201)
            }
            try await zombie.sendClose()
            // The server took the close frame: deliveries stopped, and its reply waits with a deadline.
            await clock.waitForDeadline(.close)
            // The only place of the address comes back once the server cut the socket at its deadline.
            await clock.advance(by: .seconds(5))
            let next = try await TestWebSocket.connect(port: server.port)
            let admitted: Bool
            if case .text = await next.next() { admitted = true } else { admitted = false }
            #expect(admitted)
            await next.drop()
            await zombie.drop()
        }
    }
}

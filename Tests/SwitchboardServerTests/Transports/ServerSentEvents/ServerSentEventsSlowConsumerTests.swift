import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// An SSE reader that stops reading: its stream ends at the bound, its socket is cut at the close
/// deadline, and it counts against the per-address limit until its socket is really gone.
/// A test that waits for an event the server never sends fails at the limit instead of hanging.
@Suite("Server-Sent Events flow control", .timeLimit(.minutes(5)))
struct ServerSentEventsSlowConsumerTests {
    private static func configure(closeSeconds: Int) -> @Sendable (inout ServerConfiguration) -> Void {
        {
            $0.engine.isDevelopmentMode = true
            $0.engine.limits.maximumConnectionsPerAddress = 1
            $0.engine.namespaces.defaultPolicy.mailboxBytes = 256 * 1024
            $0.timeouts.closeSeconds = closeSeconds
        }
    }

    /// Opens a stream that stops reading, and publishes until the server ends it as a slow consumer.
    private static func overflowedStream(_ server: TestServer) async throws -> TestSSE {
        let http = TestHTTP(server)
        let slow = try await TestSSE.connect(
            port: server.port,
            path: "/v1/sse?channel=firehose",
            receiveBufferSize: 4096
        )
        try #require(slow.status == 200)
        try await slow.setReading(false)
        let padding = String(repeating: "x", count: 4000)
        let items = (0..<500).map { _ in #"{"channel":"firehose","type":"t","data":"\#(padding)"}"# }
        var batches = 0
        while try await http.metric("switchboard_slow_consumers_closed_total") ?? 0 < 1 {
            try #require(batches < 100, "the stream never overflowed")
            let response = try await http.request(
                "POST",
                "/v1/events",
                body: #"{"events":[\#(items.joined(separator: ","))]}"#
            )
            try #require(response.status == 201)
            batches += 1
        }
        return slow
    }

    @Test(
        "An ended stream whose reader does not read holds its place in the limits until the close deadline cuts its socket; then the place comes back"
    )
    func endedStreamCountsUntilCut() async throws {
        let clock = ManualClock()
        try await TestServer.with(configure: Self.configure(closeSeconds: 5), ambient: clock.ambient) { server in
            let slow = try await Self.overflowedStream(server)
            // Ended: its last chunk waits behind the unread data, with the close deadline set.
            await clock.waitForDeadline(.close)
            let refused = try await TestSSE.connect(port: server.port, path: "/v1/sse?channel=firehose")
            #expect(refused.status == 429)
            await refused.close()
            // The deadline passes: the socket is cut, and only now is the place given back.
            await clock.advance(by: .seconds(5))
            let again = try await TestSSE.connect(port: server.port, path: "/v1/sse?channel=firehose")
            #expect(again.status == 200)
            await again.close()
            await slow.close()
        }
    }

    @Test("A stream resuming 12,000 missed events, with a mailbox smaller than they are, delivers all of them in order")
    func longResumeIsPacedNotEnded() async throws {
        try await TestServer.with(configure: {
            $0.engine.isDevelopmentMode = true
            $0.engine.namespaces.defaultPolicy.mailboxBytes = 256 * 1024
            $0.engine.limits.maximumPageBytes = 64 * 1024
        }) { server in
            let http = TestHTTP(server)
            let padding = String(repeating: "y", count: 100)
            let items = (0..<1000).map { _ in #"{"channel":"backlog","type":"t","data":"\#(padding)"}"# }
            for _ in 0..<12 {
                let response = try await http.request(
                    "POST",
                    "/v1/events",
                    body: #"{"events":[\#(items.joined(separator: ","))]}"#
                )
                try #require(response.status == 201)
            }
            let stream = try await TestSSE.connect(
                port: server.port,
                path: "/v1/sse?channel=backlog",
                headers: ["Last-Event-ID": "backlog@0"]
            )
            #expect(stream.status == 200)
            var expected: Int64 = 1
            while expected <= 12_000, let message = await stream.next() {
                #expect(message.id == "backlog@\(expected)")
                if message.id != "backlog@\(expected)" { break }
                expected += 1
            }
            #expect(expected == 12_001)
            // Still open and live.
            try await http.publish("backlog")
            #expect(await stream.next()?.id == "backlog@12001")
            #expect(try await http.metric("switchboard_slow_consumers_closed_total") == 0)
            await stream.close()
        }
    }
}

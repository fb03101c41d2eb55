import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardTestSupport
import Testing

@Suite("Flow control")
struct SlowConsumerTests {
    @Test("A slow reader is closed with 4008 while a fast one on the same channel receives everything")
    func slowConsumerIsClosed() async throws {
        try await TestServer.with(configure: {
            $0.engine.isDevelopmentMode = true
            $0.engine.namespaces.defaultPolicy.mailboxBytes = 256 * 1024
            $0.engine.namespaces.defaultPolicy.mailboxEvents = 200
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
}

import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardStore
import SwitchboardTestSupport
import Testing

/// Two real servers on one PostgreSQL database, over real sockets: what one node commits reaches the
/// subscribers of the other, each channel in offset order, once, with the doorbell and without it.
@Suite(
    "Nodes sharing PostgreSQL",
    .enabled(if: StoreBackend.underTest.contains(.postgres)),
    .timeLimit(.minutes(5))
)
struct ClusterServerTests {
    private func withNodes(
        configure more: @escaping (inout ServerConfiguration) -> Void = { _ in },
        _ body: (TestServer, TestServer, PostgresAddress) async throws -> Void
    ) async throws {
        try await TwoNodes.with(configure: more, body)
    }

    private func subscribe(_ channel: String, on node: TestServer, key: String) async throws -> TestWebSocket {
        let socket = try await TestWebSocket.connect(port: node.port, headers: ["Authorization": "Bearer \(key)"])
        _ = await socket.nextText()
        try await socket.send(#"{"op":"subscribe","channel":"\#(channel)"}"#)
        let reply = try await socket.nextJSON()
        #expect(reply["op"] == .string("subscribed"))
        return socket
    }

    /// The offsets of the next `count` events on `socket`.
    private func offsets(_ count: Int, from socket: TestWebSocket) async throws -> [Int] {
        var offsets: [Int] = []
        for _ in 0..<count {
            let message = try await socket.nextJSON()
            offsets.append(Int(try #require(message["offset"]?.intValue, "not an event: \(message)")))
        }
        return offsets
    }

    /// The offsets of the next `count` events on an SSE stream.
    private func offsets(_ count: Int, from stream: TestSSE) async throws -> [Int] {
        var offsets: [Int] = []
        for _ in 0..<count {
            let message = try #require(await stream.next())
            offsets.append(Int(try #require(try JSONParser.parse(message.data)["offset"]?.intValue)))
        }
        return offsets
    }

    @Test("Publishes on both nodes at once reach a WebSocket subscriber on each node and an SSE stream, in order, once")
    func publishesCrossNodes() async throws {
        try await withNodes { first, second, _ in
            let key = first.adminKey
            let onFirst = try await subscribe("orders", on: first, key: key)
            let onSecond = try await subscribe("orders", on: second, key: key)
            let stream = try await TestSSE.connect(
                port: second.port,
                path: "/v1/sse?channel=orders",
                headers: ["Authorization": "Bearer \(key)"]
            )
            #expect(stream.status == 200)
            let perNode = 40
            try await withThrowingTaskGroup(of: Void.self) { group in
                for node in [first, second] {
                    group.addTask {
                        let http = TestHTTP(baseURL: node.baseURL, key: key)
                        for index in 0..<perNode { try await http.publish("orders", data: #"{"n":\#(index)}"#) }
                    }
                }
                try await group.waitForAll()
            }
            let expected = Array(1...(2 * perNode))
            #expect(try await offsets(expected.count, from: onFirst) == expected)
            #expect(try await offsets(expected.count, from: onSecond) == expected)
            #expect(try await offsets(expected.count, from: stream) == expected)
            await onFirst.drop()
            await onSecond.drop()
            await stream.close()
        }
    }

    @Test("A long-poll on one node is answered with an event published on the other")
    func longPollCrossNodes() async throws {
        try await withNodes { first, second, _ in
            let key = first.adminKey
            let poll = Task {
                try await TestHTTP(baseURL: second.baseURL, key: key)
                    .request("GET", "/v1/channels/orders/events?after=0&wait=30")
            }
            let receipt = try await TestHTTP(baseURL: first.baseURL, key: key).publish("orders")
            let page = try await poll.value.json
            #expect(page["events"]?.arrayValue?.first?["id"] == receipt["id"])
        }
    }

    @Test("Ending the doorbell's listening connections loses nothing: every event arrives, in order")
    func doorbellTerminated() async throws {
        try await withNodes { first, second, database in
            let key = first.adminKey
            try await TestActivity.eventually("both doorbells to listen") {
                try await TestDatabases.doorbellListeners(of: database) == 2 ? true : nil
            }
            let onSecond = try await subscribe("orders", on: second, key: key)
            let http = TestHTTP(baseURL: first.baseURL, key: key)
            for index in 0..<10 { try await http.publish("orders", data: #"{"n":\#(index)}"#) }
            #expect(try await TestDatabases.terminateDoorbellListeners(of: database) == 2)
            // Published while no node listens: the poll carries these, then the doorbell again.
            for index in 10..<30 { try await http.publish("orders", data: #"{"n":\#(index)}"#) }
            #expect(try await offsets(30, from: onSecond) == Array(1...30))
            try await TestActivity.eventually("both doorbells to listen again") {
                try await TestDatabases.doorbellListeners(of: database) == 2 ? true : nil
            }
            for index in 30..<40 { try await http.publish("orders", data: #"{"n":\#(index)}"#) }
            #expect(try await offsets(10, from: onSecond) == Array(31...40))
            await onSecond.drop()
        }
    }

    @Test("An endpoint created on one node gets, signed and once, an event published on the other")
    func webhookAcrossNodes() async throws {
        let receiver = try await TestWebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withNodes(configure: WebhookTest.configure()) { first, second, _ in
            let key = first.adminKey
            let endpoint = try await WebhookTest.createEndpoint(
                TestHTTP(baseURL: first.baseURL, key: key),
                body: #"{"url":"\#(receiver.url)","channels":["orders"]}"#
            )
            let secret = try #require(endpoint["secret"]?.stringValue)
            let receipt = try await TestHTTP(baseURL: second.baseURL, key: key).publish("orders")
            let request = try await receiver.next()
            #expect(request.headers["webhook-id"] == receipt["id"]?.stringValue)
            #expect(try request.isSigned(with: secret))
            let id = try #require(endpoint["id"]?.stringValue)
            let delivery = try await WebhookTest.delivery(TestHTTP(baseURL: second.baseURL, key: key), endpoint: id) {
                $0["status"]?.stringValue == "succeeded"
            }
            #expect(delivery["attempts"]?.arrayValue?.count == 1)
        }
    }
}

import SwitchboardCore
import SwitchboardTestSupport
import Testing

@Suite("Fan-out across transports")
struct FanOutTests {
    @Test("One publish reaches WebSocket, SSE and long-poll subscribers, in order")
    func everyTransportReceives() async throws {
        try await TestServer.with { server in
            let key = server.adminKey
            let socket = try await TestWebSocket.connect(port: server.port, headers: ["Authorization": "Bearer \(key)"])
            _ = await socket.nextText()
            try await socket.send(#"{"op":"subscribe","channel":"orders"}"#)
            _ = await socket.nextText()
            let stream = try await TestSSE.connect(
                port: server.port,
                path: "/v1/sse?channel=orders",
                headers: ["Authorization": "Bearer \(key)"]
            )
            let http = TestHTTP(server)
            async let poll = http.request("GET", "/v1/channels/orders/events?after=0&wait=10")
            let published = try await http.publish("orders", type: "order.created", data: "{\"id\":1}")
            try await http.publish("orders", type: "order.created", data: "{\"id\":2}")

            let viaWebSocket = try JSONParser.parse(try #require(await socket.nextText()))
            let viaSSE = try JSONParser.parse(try #require(await stream.next()).data)
            let viaPoll = try await poll.json
            #expect(viaWebSocket["id"] == published["id"])
            #expect(viaSSE["id"] == published["id"])
            guard case .array(let polled) = viaPoll["events"] else {
                Issue.record("long-poll returned no events")
                return
            }
            #expect(polled.first?["id"] == published["id"])
            #expect(try JSONParser.parse(try #require(await socket.nextText()))["offset"] == .int(2))
            #expect(try JSONParser.parse(try #require(await stream.next()).data)["offset"] == .int(2))
            await socket.drop()
            await stream.close()
        }
    }
}

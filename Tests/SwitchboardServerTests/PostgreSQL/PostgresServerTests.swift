import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardStore
import SwitchboardTestSupport
import Testing

/// The real server with `store.database` naming PostgreSQL (`serve --database`): publishing,
/// live fan-out, idempotency, restarts and webhooks, over real sockets. Runs whenever PostgreSQL is
/// under test (always under CI).
@Suite(
    "Server on PostgreSQL",
    .enabled(if: StoreBackend.underTest.contains(.postgres)),
    .timeLimit(.minutes(5))
)
struct PostgresServerTests {
    private func withServer(
        configure: @escaping (inout ServerConfiguration) -> Void = { _ in },
        _ body: (TestServer) async throws -> Void
    ) async throws {
        try await TestDatabases.withTemporary { database in
            try await TestServer.with(configure: { configuration in
                configuration.engine.store.database = database
                configure(&configuration)
            }) { server in
                try await body(server)
            }
        }
    }

    @Test("A publish reaches a WebSocket subscriber live and is in history; offsets continue after a restart")
    func publishSubscribeRestart() async throws {
        try await withServer { server in
            let socket = try await TestWebSocket.connect(
                port: server.port,
                headers: ["Authorization": "Bearer \(server.adminKey)"]
            )
            _ = await socket.nextText()
            try await socket.send(#"{"op":"subscribe","channel":"orders"}"#)
            _ = await socket.nextText()
            let http = TestHTTP(server)
            let published = try await http.publish("orders", type: "order.created", data: #"{"n":1}"#)
            let live = try JSONParser.parse(try #require(await socket.nextText()))
            #expect(live["id"] == published["id"])
            #expect(live["offset"] == .int(1))
            await socket.drop()

            try await server.restart()
            let again = TestHTTP(server)
            #expect(try await again.publish("orders")["offset"]?.intValue == 2)
            #expect(try await again.storedEvents("orders").compactMap { $0["offset"]?.intValue } == [1, 2])
        }
    }

    @Test("An Idempotency-Key replays from PostgreSQL: 200 Idempotent-Replayed, one event stored")
    func idempotentPublish() async throws {
        try await withServer { server in
            let http = TestHTTP(server)
            let body = #"{"type":"order.created","data":{}}"#
            let headers = ["Idempotency-Key": "order-9"]
            let first = try await http.request("POST", "/v1/channels/orders/events", body: body, headers: headers)
            let second = try await http.request("POST", "/v1/channels/orders/events", body: body, headers: headers)
            #expect(first.status == 201)
            #expect(second.status == 200)
            #expect(second.headers["idempotent-replayed"] == "true")
            #expect(try second.json == (try first.json))
            #expect(try await http.storedEvents("orders").count == 1)
        }
    }

    @Test("A webhook endpoint stored in PostgreSQL gets a signed delivery, recorded as succeeded")
    func webhookDelivery() async throws {
        let receiver = try await TestWebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withServer(configure: WebhookTest.configure()) { server in
            let http = TestHTTP(server)
            let endpoint = try await WebhookTest.createEndpoint(
                http,
                body: #"{"url":"\#(receiver.url)","channels":["orders"]}"#
            )
            let secret = try #require(endpoint["secret"]?.stringValue)
            let receipt = try await http.publish("orders", type: "order.created", data: #"{"total":12}"#)
            let request = try await receiver.next()
            #expect(request.headers["webhook-id"] == receipt["id"]?.stringValue)
            #expect(try request.isSigned(with: secret))
            let id = try #require(endpoint["id"]?.stringValue)
            let delivery = try await WebhookTest.delivery(http, endpoint: id) {
                $0["status"]?.stringValue == "succeeded"
            }
            #expect(delivery["event"]?.stringValue == receipt["id"]?.stringValue)
            #expect(delivery["attempts"]?.arrayValue?.count == 1)
        }
    }
}

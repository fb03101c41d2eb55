import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardStore
import SwitchboardTestSupport
import Testing

/// Channel occupancy (Pusher's `channel_occupied` / `channel_vacated`) on two real servers sharing one
/// PostgreSQL database, over real sockets: decided once for both nodes, not per node.
@Suite(
    "Occupancy on nodes sharing PostgreSQL",
    .enabled(if: StoreBackend.underTest.contains(.postgres)),
    .timeLimit(.minutes(5))
)
struct ClusterOccupancyTests {
    /// A connection subscribed to `channel` on `node` with the admin key.
    private func subscribe(_ node: TestServer, _ channel: String, key: String) async throws -> TestWebSocket {
        let socket = try await TestWebSocket.connect(port: node.port, path: "/v1/ws?token=\(key)")
        _ = try await socket.nextJSON()
        try await socket.send(#"{"op":"subscribe","channel":"\#(channel)"}"#)
        try #require(try await socket.nextJSON()["op"] == .string("subscribed"))
        return socket
    }

    /// The types journaled on `$occupancy:<channel>`, in order.
    private func journal(_ channel: String, on node: TestServer, key: String) async throws -> [String] {
        let response = try await TestHTTP(baseURL: node.baseURL, key: key).request(
            "GET",
            "/v1/channels/$occupancy:\(channel)/events?after=0"
        )
        return try (response.json["events"]?.arrayValue ?? []).compactMap { $0["type"]?.stringValue }
    }

    @Test("A channel with subscribers on both nodes is occupied once and vacated once, when neither has any")
    func onceAcrossNodes() async throws {
        try await TwoNodes.with(
            configure: { configuration in
                configuration.engine.store.nodeTTLMilliseconds = 30_000
                configuration.clientTokens = ClientTokenSettings(secret: TestTokens.secret)
                configuration.engine.namespaces.named["room"] = NamespacePolicy(hasPresence: true)
                PusherWebhookDeliveryTests.configure(&configuration)
            }
        ) { first, second, _ in
            let key = first.adminKey
            let onFirst = try await subscribe(first, "orders", key: key)
            try await TestActivity.eventually("orders to be occupied") {
                try await journal("orders", on: first, key: key) == ["channel.occupied"] ? true : nil
            }
            let onSecond = try await subscribe(second, "orders", key: key)
            // The second node carries its joins in order: once a presence join made after the
            // subscription is listed, the subscription's occupancy reached the database too.
            let token = TestTokens.token(user: "probe", channels: #"["room:*"]"#)
            let probe = try await TestWebSocket.connect(port: second.port, path: "/v1/ws?token=\(token)")
            _ = try await probe.nextJSON()
            try await probe.send(#"{"op":"subscribe","channel":"room:1"}"#)
            try #require(try await probe.nextJSON()["op"] == .string("subscribed"))
            try await TestActivity.eventually("the probe to be present") {
                let response = try await TestHTTP(baseURL: first.baseURL, key: key).request(
                    "GET",
                    "/v1/channels/room:1/presence"
                )
                return try response.json["members"]?.arrayValue?.isEmpty == false ? true : nil
            }

            await onFirst.drop()
            await onSecond.drop()
            try await TestActivity.eventually("orders to be vacated") {
                try await journal("orders", on: second, key: key).last == "channel.vacated" ? true : nil
            }
            #expect(try await journal("orders", on: first, key: key) == ["channel.occupied", "channel.vacated"])
            await probe.drop()
        }
    }
}

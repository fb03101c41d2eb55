import Logging
import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardStore
import SwitchboardTestSupport
import Testing

/// Presence on two real servers sharing one PostgreSQL database, over real sockets: a user connected
/// to both is one member on both; the others hear one join and one leave; a node that stops beating
/// has its members leave.
@Suite(
    "Presence on nodes sharing PostgreSQL",
    .enabled(if: StoreBackend.underTest.contains(.postgres)),
    .timeLimit(.minutes(5))
)
struct ClusterPresenceTests {
    /// Two nodes on a fresh database, beating every third of `ttl` (a busy machine may stall a node for a
    /// while: a TTL too short would have the live nodes reaped, and rejoin, in the middle of a test).
    private func withNodes(
        ttl: Int = 30_000,
        _ body: (TestServer, TestServer, PostgresAddress) async throws -> Void
    ) async throws {
        try await TwoNodes.with(
            configure: { configuration in
                configuration.engine.store.nodeTTLMilliseconds = ttl
                configuration.clientTokens = ClientTokenSettings(secret: TestTokens.secret)
                configuration.engine.namespaces.named["room"] = NamespacePolicy(hasPresence: true)
            },
            body
        )
    }

    /// A connection of `user` subscribed to `room:1` on `node`, and its client id.
    private func join(_ node: TestServer, user: String) async throws -> (TestWebSocket, String) {
        let token = TestTokens.token(user: user, channels: #"["room:*"]"#)
        let socket = try await TestWebSocket.connect(port: node.port, path: "/v1/ws?token=\(token)")
        let welcome = try await socket.nextJSON()
        let client = try #require(welcome["client"]?.stringValue)
        try await socket.send(#"{"op":"subscribe","channel":"room:1"}"#)
        try #require(try await socket.nextJSON()["op"] == .string("subscribed"))
        return (socket, client)
    }

    /// `(user, client)` of each member listed by `node`, in order.
    private func members(on node: TestServer, adminKey: String) async throws -> [String] {
        let response = try await TestHTTP(baseURL: node.baseURL, key: adminKey).request(
            "GET",
            "/v1/channels/room:1/presence"
        )
        return try (response.json["members"]?.arrayValue ?? []).compactMap { member in
            guard let user = member["user"]?.stringValue, let client = member["client"]?.stringValue else { return nil }
            return "\(user) \(client)"
        }
    }

    /// Waits until both nodes list exactly `expected`.
    private func bothList(_ expected: [String], _ first: TestServer, _ second: TestServer) async throws {
        try await TestActivity.eventually("both nodes to list \(expected)") {
            let onFirst = try await members(on: first, adminKey: first.adminKey)
            let onSecond = try await members(on: second, adminKey: first.adminKey)
            return onFirst == expected && onSecond == expected ? true : nil
        }
    }

    /// The next frame on `socket`, as `op user`.
    private func nextChange(_ socket: TestWebSocket) async throws -> String {
        let frame = try await socket.nextJSON()
        return "\(frame["op"]?.stringValue ?? "?") \(frame["member"]?["user"]?.stringValue ?? "?")"
    }

    @Test("A user connected to both nodes is one member on both; the others hear one join and one leave")
    func oneMemberAcrossNodes() async throws {
        try await withNodes { first, second, _ in
            let (bob, bobClient) = try await join(second, user: "bob")
            try await bothList(["bob \(bobClient)"], first, second)

            let (adaOnFirst, adaFirstClient) = try await join(first, user: "ada")
            #expect(try await nextChange(bob) == "join ada")
            let (adaOnSecond, adaSecondClient) = try await join(second, user: "ada")
            let (carol, carolClient) = try await join(first, user: "carol")
            // Ada's second connection made no second join: Carol's is the next thing Bob hears.
            #expect(try await nextChange(bob) == "join carol")
            try await bothList(["bob \(bobClient)", "ada \(adaFirstClient)", "carol \(carolClient)"], first, second)

            // Ada leaves the first node: still present, now shown with the connection she has left.
            await adaOnFirst.drop()
            try await bothList(["bob \(bobClient)", "ada \(adaSecondClient)", "carol \(carolClient)"], first, second)
            await carol.drop()
            #expect(try await nextChange(bob) == "leave carol")
            await adaOnSecond.drop()
            #expect(try await nextChange(bob) == "leave ada")
            try await bothList(["bob \(bobClient)"], first, second)

            // The journal holds each join and leave once, in order.
            let journal = try await TestHTTP(baseURL: first.baseURL, key: first.adminKey).request(
                "GET",
                "/v1/channels/$presence:room:1/events?after=0"
            )
            let entries = try (journal.json["events"]?.arrayValue ?? []).map { event in
                let member = try JSONParser.parse(event["data"]?.jsonText ?? "null")
                return "\(event["type"]?.stringValue ?? "?") \(member["user"]?.stringValue ?? "?")"
            }
            #expect(
                entries == [
                    "presence.join bob", "presence.join ada", "presence.join carol", "presence.leave carol",
                    "presence.leave ada",
                ]
            )
            await bob.drop()
        }
    }

    @Test("The members of a node that stopped beating leave, each once, and the others hear it")
    func deadNodeReaped() async throws {
        try await withNodes(ttl: 3000) { first, second, database in
            let (bob, _) = try await join(second, user: "bob")
            // A node that joins a member and then dies: it never beats again.
            let clock = TestClock()
            var logger = Logger(label: "dead-node")
            logger.logLevel = .critical
            let storage = try await PostgresStorage.open(address: database, logger: logger)
            let databaseClock = DatabaseClock(now: { clock.now })
            try await databaseClock.measure(on: storage)
            let dead = PostgresPresence(storage: storage, node: "node_dead", clock: databaseClock)
            #expect(try await dead.heartbeat(now: clock.now, ttl: .milliseconds(300)))
            let zed = #"{"client":"cl_zed","user":"zed","info":null}"#
            try await dead.join(channel: try ChannelName("room:1"), client: "cl_zed", user: "zed", member: zed)
            await storage.close()

            // Its journaled join is published by a live node, and the leave once its heartbeat ran out.
            #expect(try await nextChange(bob) == "join zed")
            #expect(try await nextChange(bob) == "leave zed")
            try await TestActivity.eventually("zed to be gone from both nodes") {
                let onFirst = try await members(on: first, adminKey: first.adminKey)
                let onSecond = try await members(on: second, adminKey: first.adminKey)
                return onFirst.count == 1 && onSecond.count == 1 ? true : nil
            }
            await bob.drop()
        }
    }
}

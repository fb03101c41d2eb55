import Foundation
import SwitchboardCore
import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// Endpoints with `"signing": "pusher"`: a Pusher app's webhooks (`channel_occupied`,
/// `channel_vacated`, `member_added`, `member_removed`, `client_event`) made from what Pusher clients
/// do over real sockets, in Pusher's body, signed with the app's secret.
@Suite("Pusher webhook deliveries")
struct PusherWebhookDeliveryTests {
    static let app = "app-1"
    static let key = "key-1"
    static let secret = "pusher-webhook-secret-0123456789"

    static func configure(_ configuration: inout ServerConfiguration) {
        WebhookTest.configure()(&configuration)
        configuration.pusherApps =
            (try? PusherApps([
                PusherApp(id: app, key: key, secret: secret, clientEvents: true)
            ])) ?? .none
    }

    /// The `(name, channel)` of each event of the webhooks received until `expected` all arrived (in
    /// any order: an endpoint that is not ordered sends several at once), after checking each one's
    /// signature and key.
    private static func receive(
        _ expected: [PusherEvent],
        from receiver: TestWebhookReceiver
    ) async throws -> [JSONValue] {
        var missing = expected
        var events: [JSONValue] = []
        while !missing.isEmpty {
            let request = try await receiver.next()
            #expect(request.headers["x-pusher-key"] == key)
            #expect(
                request.headers["x-pusher-signature"]
                    == PusherSignature.webhook(body: request.body, secret: Array(secret.utf8))
            )
            #expect(request.headers["content-type"] == "application/json")
            let body = try JSONParser.parse(request.body)
            #expect(body["time_ms"]?.intValue != nil, "body: \(request.text)")
            guard case .array(let carried)? = body["events"], carried.count == 1 else {
                Issue.record("a webhook carries one event: \(request.text)")
                continue
            }
            let event = carried[0]
            let seen = PusherEvent(event["name"]?.stringValue ?? "", event["channel"]?.stringValue ?? "")
            guard let index = missing.firstIndex(of: seen) else {
                Issue.record("an unexpected webhook: \(request.text)")
                continue
            }
            missing.remove(at: index)
            events.append(event)
        }
        return events
    }

    struct PusherEvent: Equatable, CustomStringConvertible {
        let name: String
        let channel: String
        init(_ name: String, _ channel: String) {
            self.name = name
            self.channel = channel
        }
        var description: String { "\(name) \(channel)" }
    }

    /// A Pusher connection's next message that is not a ping, as JSON.
    private static func next(_ socket: TestWebSocket) async throws -> JSONValue {
        while true {
            let message = try await socket.nextJSON()
            if message["event"]?.stringValue != "pusher:ping" { return message }
        }
    }

    private static func subscribe(
        _ socket: TestWebSocket,
        _ channel: String,
        socketID: String,
        channelData: String? = nil
    ) async throws {
        var data: [(String, JSONValue)] = [("channel", .string(channel))]
        if channel.hasPrefix("private-") || channel.hasPrefix("presence-") {
            let auth = PusherSignature.channelAuth(
                key: key,
                secret: Array(secret.utf8),
                socketID: socketID,
                channel: channel,
                channelData: channelData
            )
            data.append(("auth", .string(auth)))
        }
        if let channelData { data.append(("channel_data", .string(channelData))) }
        try await socket.send(
            JSONValue.object([("event", .string("pusher:subscribe")), ("data", .object(data))]).jsonText
        )
        let answer = try await next(socket)
        try #require(
            answer["event"]?.stringValue == "pusher_internal:subscription_succeeded",
            "subscribing to \(channel): \(answer.jsonText)"
        )
    }

    /// Runs `body` against a server with the app, and a Pusher endpoint of it (`more` members added to
    /// the create request) pointing at a receiver answering `200`.
    private static func withPusherEndpoint(
        _ more: String = "",
        _ body: (_ server: TestServer, _ http: TestHTTP, _ endpoint: JSONValue, _ receiver: TestWebhookReceiver)
            async throws -> Void
    ) async throws {
        let receiver = try await TestWebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await TestServer.with(configure: Self.configure) { server in
            let http = TestHTTP(server)
            let endpoint = try await WebhookTest.createEndpoint(
                http,
                body: #"{"url":"\#(receiver.url)","signing":"pusher","pusherApp":"\#(app)"\#(more)}"#
            )
            try await body(server, http, endpoint, receiver)
        }
    }

    @Test("Pusher clients' subscriptions, members and client events reach a Pusher endpoint as Pusher's webhooks")
    func webhooksFromPusherClients() async throws {
        try await Self.withPusherEndpoint { server, _, endpoint, receiver in
            #expect(endpoint["signing"] == .string("pusher"))
            #expect(endpoint["pusherApp"] == .string(Self.app))
            #expect(endpoint["secret"] == nil, "the app's secret is the configuration's, never shown")
            #expect(endpoint["channels"] == .array(["*", "$presence:*", "$occupancy:*"].map { .string($0) }))

            let socket = try await TestWebSocket.connect(port: server.port, path: "/app/\(Self.key)?protocol=7")
            let established = try await Self.next(socket)
            let connection = try JSONParser.parse(Array((established["data"]?.stringValue ?? "").utf8))
            let socketID = try #require(connection["socket_id"]?.stringValue)

            try await Self.subscribe(socket, "room", socketID: socketID)
            _ = try await Self.receive([PusherEvent("channel_occupied", "room")], from: receiver)

            let channelData = #"{"user_id":"ada","user_info":{"name":"Ada"}}"#
            try await Self.subscribe(socket, "presence-lobby", socketID: socketID, channelData: channelData)
            let joined = try await Self.receive(
                [PusherEvent("channel_occupied", "presence-lobby"), PusherEvent("member_added", "presence-lobby")],
                from: receiver
            )
            #expect(joined.contains { $0["user_id"] == .string("ada") })

            try await socket.send(#"{"event":"client-typing","channel":"presence-lobby","data":{"on":true}}"#)
            let sent = try await Self.receive([PusherEvent("client_event", "presence-lobby")], from: receiver)
            #expect(sent.first?["event"] == .string("client-typing"))
            #expect(sent.first?["socket_id"] == .string(socketID))
            #expect(sent.first?["user_id"] == .string("ada"), "a presence channel's client event names its sender")
            #expect(sent.first?["data"] == .string(#"{"on":true}"#))

            try await socket.send(#"{"event":"pusher:unsubscribe","data":{"channel":"room"}}"#)
            _ = try await Self.receive([PusherEvent("channel_vacated", "room")], from: receiver)

            await socket.drop()
            let left = try await Self.receive(
                [PusherEvent("member_removed", "presence-lobby"), PusherEvent("channel_vacated", "presence-lobby")],
                from: receiver
            )
            #expect(left.contains { $0["user_id"] == .string("ada") })
        }
    }

    @Test("A native subscriber occupies a channel too, and a client- event published over HTTP has no socket id")
    func nativeClientsAndPublishers() async throws {
        try await Self.withPusherEndpoint(#","channels":["orders"]"#) { server, http, endpoint, receiver in
            // A Pusher endpoint's channel stands for its presence and occupancy journals too.
            #expect(
                endpoint["channels"] == .array(["orders", "$presence:orders", "$occupancy:orders"].map { .string($0) })
            )
            let socket = try await TestWebSocket.connect(port: server.port, path: "/v1/ws?token=\(server.adminKey)")
            try await socket.send(#"{"op":"subscribe","channel":"orders","ref":"1"}"#)
            _ = try await Self.receive([PusherEvent("channel_occupied", "orders")], from: receiver)

            _ = try await http.publish("orders", type: "client-note", data: #"{"n":1}"#)
            let sent = try await Self.receive([PusherEvent("client_event", "orders")], from: receiver)
            #expect(sent.first?["socket_id"] == nil)
            #expect(sent.first?["data"] == .string(#"{"n":1}"#))
            await socket.drop()
            _ = try await Self.receive([PusherEvent("channel_vacated", "orders")], from: receiver)
        }
    }

    @Test("An event that is none of Pusher's webhooks is delivered without a request, and says so")
    func nothingToSend() async throws {
        try await Self.withPusherEndpoint { _, http, created, _ in
            let endpoint = try WebhookTest.id(of: created)
            // Matches the endpoint's types, but on a plain channel it is an application's event.
            _ = try await http.publish("notes", type: "presence.join", data: #"{"user":"x"}"#)
            let delivery = try await WebhookTest.delivery(http, endpoint: endpoint) {
                $0["status"]?.stringValue == "succeeded"
            }
            guard case .array(let attempts)? = delivery["attempts"], let attempt = attempts.first else {
                Issue.record("no attempt: \(delivery.jsonText)")
                return
            }
            #expect(attempt["status"] == .null, "no request was made")
            #expect(attempt["error"]?.stringValue?.hasPrefix("nothing sent") == true)
            // Not a failure of the endpoint: no failing streak starts.
            let read = try await http.request("GET", "/v1/endpoints/\(endpoint)").json
            #expect(read["failingSince"] == .null)
            #expect(read["enabled"] == .bool(true))
        }
    }

    @Test("Pusher endpoints are refused without a configured app, with a secret, and have no secret to show or rotate")
    func refusals() async throws {
        try await TestServer.with(configure: Self.configure) { server in
            let http = TestHTTP(server)
            let url = "https://example.com/pusher"
            for (body, expected) in [
                (#"{"url":"\#(url)","signing":"pusher"}"#, "pusherApp"),
                (#"{"url":"\#(url)","signing":"pusher","pusherApp":"nope"}"#, "no Pusher app"),
                (#"{"url":"\#(url)","signing":"pusher","pusherApp":7}"#, "pusherApp"),
                (#"{"url":"\#(url)","signing":"pusher","pusherApp":"\#(Self.app)","secret":"whsec_x"}"#, "omit secret"),
                (#"{"url":"\#(url)","channels":["a"],"pusherApp":"\#(Self.app)"}"#, "pusherApp goes with"),
            ] {
                let response = try await http.request("POST", "/v1/endpoints", body: body)
                #expect(response.status == 400, "\(body): \(response.body)")
                #expect(response.body.contains(expected), "\(body): \(response.body)")
            }
            let listed = try await http.request("GET", "/v1/endpoints")
            #expect(listed.body == #"{"endpoints":[]}"#, "a refused endpoint is not made")

            let id = try WebhookTest.id(
                of: try await WebhookTest.createEndpoint(
                    http,
                    body: #"{"url":"\#(url)","signing":"pusher","pusherApp":"\#(Self.app)"}"#
                )
            )
            for (method, path) in [
                ("GET", "/v1/endpoints/\(id)/secret"), ("POST", "/v1/endpoints/\(id)/rotate-secret"),
                ("POST", "/v1/endpoints/\(id)/test"),
            ] {
                let response = try await http.request(method, path)
                #expect(response.status == 409, "\(method) \(path): \(response.body)")
            }
            let patched = try await http.request("PATCH", "/v1/endpoints/\(id)", body: #"{"pusherApp":"other"}"#)
            #expect(patched.status == 400, "\(patched.body)")
            let narrowed = try await http.request("PATCH", "/v1/endpoints/\(id)", body: #"{"channels":["presence-*"]}"#)
            #expect(narrowed.status == 200, "\(narrowed.body)")
            #expect(
                try narrowed.json["channels"]
                    == .array(["presence-*", "$presence:presence-*", "$occupancy:presence-*"].map { .string($0) })
            )
            let read = try await http.request("GET", "/v1/endpoints/\(id)")
            #expect(try read.json["pusherApp"] == .string(Self.app))
            #expect(!read.body.contains(Self.secret))
        }
    }
}

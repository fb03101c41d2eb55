import Crypto
import Foundation
import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// `POST /v1/inbound/{source}` over real sockets: verification before anything is stored,
/// deduplication by the provider's delivery id, the request log, and the whole path from a signed
/// provider webhook to a WebSocket subscriber and a signed outgoing delivery.
@Suite("Inbound webhooks")
struct InboundWebhookTests {
    private static let stripeSecret = "whsec_stripe_test_secret"

    private static func createStripeSource(_ http: TestHTTP, extra: String = "") async throws {
        let response = try await http.request(
            "POST",
            "/v1/sources",
            body: #"{"name":"stripe","verify":"stripe","secrets":["\#(stripeSecret)"],"channel":"stripe"\#(extra)}"#
        )
        try #require(response.status == 201, "create source answered \(response.status): \(response.body)")
    }

    /// A Stripe-style event body and its `Stripe-Signature`, made as Stripe documents it.
    private static func stripeRequest(id: String = "evt_3Nx", secret: String = stripeSecret) -> (
        body: String, signature: String
    ) {
        let body =
            #"{"id":"\#(id)","object":"event","type":"payment_intent.succeeded","data":{"object":{"amount":2000}}}"#
        let timestamp = Int(Date().timeIntervalSince1970)
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array("\(timestamp).\(body)".utf8),
            using: SymmetricKey(data: Array(secret.utf8))
        )
        return (body, "t=\(timestamp),v1=\(Hex.encode(mac))")
    }

    private static func post(_ server: TestServer, _ source: String, body: String, headers: [String: String])
        async throws
        -> TestResponse
    {
        try await TestHTTP.anonymous(server).request("POST", "/v1/inbound/\(source)", body: body, headers: headers)
    }

    @Test("Stripe webhook → WebSocket subscriber on stripe → registered endpoint, signed with its own secret")
    func endToEnd() async throws {
        let receiver = try await TestWebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await TestServer.with(configure: WebhookTest.configure()) { server in
            let admin = TestHTTP(server)
            try await Self.createStripeSource(admin)
            let endpoint = try await WebhookTest.createEndpoint(
                admin,
                body: #"{"url":"\#(receiver.url)","channels":["stripe"],"types":["payment_intent.*"]}"#
            )
            let endpointSecret = try #require(endpoint["secret"]?.stringValue)
            let socket = try await TestWebSocket.connect(
                port: server.port,
                headers: ["Authorization": "Bearer \(server.adminKey)"]
            )
            _ = await socket.nextText()
            try await socket.send(#"{"op":"subscribe","channel":"stripe"}"#)
            _ = await socket.nextText()

            let (body, signature) = Self.stripeRequest()
            let accepted = try await Self.post(server, "stripe", body: body, headers: ["Stripe-Signature": signature])
            #expect(accepted.status == 202, "body: \(accepted.body)")
            let eventID = try #require(try accepted.json["id"]?.stringValue)

            let live = try JSONParser.parse(try #require(await socket.nextText()))
            #expect(live["channel"] == .string("stripe"))
            #expect(live["type"] == .string("payment_intent.succeeded"))
            #expect(live["data"]?["data"]?["object"]?["amount"] == .int(2000))
            #expect(live["id"] == .string(eventID))

            let delivered = try await receiver.next()
            #expect(try delivered.isSigned(with: endpointSecret))
            #expect(delivered.text.contains("payment_intent.succeeded"))
            #expect(delivered.headers["webhook-id"] == eventID)
            await socket.drop()
        }
    }

    @Test("A redelivery with the same delivery id answers 200 with the first event and publishes nothing new")
    func deduplication() async throws {
        try await TestServer.with { server in
            let admin = TestHTTP(server)
            try await Self.createStripeSource(admin)
            let (body, signature) = Self.stripeRequest(id: "evt_once")
            let first = try await Self.post(server, "stripe", body: body, headers: ["Stripe-Signature": signature])
            #expect(first.status == 202)
            // Stripe signs each retry anew: a new timestamp and signature, the same event id.
            try await Task.sleep(for: .milliseconds(1100))
            let (_, resigned) = Self.stripeRequest(id: "evt_once")
            let again = try await Self.post(server, "stripe", body: body, headers: ["Stripe-Signature": resigned])
            #expect(again.status == 200, "body: \(again.body)")
            #expect(try again.json["id"] == first.json["id"])
            #expect(try await admin.storedEvents("stripe").count == 1)

            let log = try await admin.request("GET", "/v1/sources/stripe/requests").json["requests"]?.arrayValue ?? []
            #expect(log.count == 2)
            #expect(log.first?["duplicate"] == .bool(true))
            #expect(log.first?["deliveryId"] == .string("evt_once"))
            #expect(log.last?["duplicate"] == .bool(false))
        }
    }

    @Test("Bad, missing and altered signatures get 401, store nothing, and the request log says why")
    func refusedSignatures() async throws {
        try await TestServer.with { server in
            let admin = TestHTTP(server)
            try await Self.createStripeSource(admin)
            let (body, signature) = Self.stripeRequest()
            let altered = body.replacingOccurrences(of: "2000", with: "2001")
            try await Self.post(server, "stripe", body: altered, headers: ["Stripe-Signature": signature])
                .expectProblem("unauthorized")
            try await Self.post(server, "stripe", body: body, headers: [:]).expectProblem("unauthorized")
            let (_, wrongKey) = Self.stripeRequest(secret: "whsec_someone_else")
            try await Self.post(server, "stripe", body: body, headers: ["Stripe-Signature": wrongKey])
                .expectProblem("unauthorized")
            #expect(try await admin.storedEvents("stripe").isEmpty)

            let log = try await admin.request("GET", "/v1/sources/stripe/requests").json["requests"]?.arrayValue ?? []
            #expect(log.count == 3)
            #expect(log.allSatisfy { $0["verified"] == .bool(false) && $0["status"] == .int(401) })
            #expect(log[1]["reason"]?.stringValue?.contains("Stripe-Signature header is missing") == true)
            #expect(log[0]["reason"]?.stringValue == "no signature matches")
            #expect(try await admin.metric(#"switchboard_inbound_requests_total{outcome="rejected"}"#) == 3)
        }
    }

    @Test("An unknown source is 404 and a body over the source's limit is 413; neither stores anything")
    func notFoundAndTooLarge() async throws {
        try await TestServer.with { server in
            let admin = TestHTTP(server)
            try await Self.createStripeSource(admin, extra: #","maxBodyBytes":64"#)
            try await Self.post(server, "nobody", body: "{}", headers: [:]).expectProblem("not_found")
            let (body, signature) = Self.stripeRequest()
            try await Self.post(server, "stripe", body: body, headers: ["Stripe-Signature": signature])
                .expectProblem("too_large")
            #expect(try await admin.storedEvents("stripe").isEmpty)
        }
    }

    @Test("GitHub's documented example is accepted end to end; its type and delivery id come from headers")
    func githubExample() async throws {
        try await TestServer.with { server in
            let admin = TestHTTP(server)
            let created = try await admin.request(
                "POST",
                "/v1/sources",
                body:
                    #"{"name":"github","verify":"github","secrets":["It's a Secret to Everybody"],"channel":"github"}"#
            )
            #expect(created.status == 201, "body: \(created.body)")
            let headers = [
                "X-Hub-Signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
                "X-GitHub-Event": "ping", "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
            ]
            let accepted = try await Self.post(server, "github", body: "Hello, World!", headers: headers)
            #expect(accepted.status == 202, "body: \(accepted.body)")
            let stored = try await admin.storedEvents("github")
            #expect(stored.count == 1)
            #expect(stored.first?["type"] == .string("ping"))
            #expect(stored.first?["data"] == .string("Hello, World!"))
            let replayed = try await Self.post(server, "github", body: "Hello, World!", headers: headers)
            #expect(replayed.status == 200)
            var altered = headers
            altered["X-Hub-Signature-256"] = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18"
            try await Self.post(server, "github", body: "Hello, World!", headers: altered).expectProblem("unauthorized")
        }
    }
}

/// Slack's URL verification: a signed `url_verification` request is answered with its challenge.
@Suite("Inbound webhooks: Slack")
struct InboundSlackTests {
    private static let secret = "8f742231b10e8888abcd99yyyzzz85a5"

    private static func signed(_ body: String, secret: String = secret) -> [String: String] {
        let timestamp = Int(Date().timeIntervalSince1970)
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array("v0:\(timestamp):\(body)".utf8),
            using: SymmetricKey(data: Array(secret.utf8))
        )
        return ["X-Slack-Signature": "v0=" + Hex.encode(mac), "X-Slack-Request-Timestamp": String(timestamp)]
    }

    @Test("A signed url_verification gets its challenge back and publishes nothing; an event callback is published")
    func urlVerification() async throws {
        try await TestServer.with { server in
            let admin = TestHTTP(server)
            let created = try await admin.request(
                "POST",
                "/v1/sources",
                body: #"{"name":"slack","verify":"slack","secrets":["\#(Self.secret)"],"channel":"slack"}"#
            )
            #expect(created.status == 201, "body: \(created.body)")
            let client = TestHTTP.anonymous(server)
            let challenge =
                #"{"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#
            let answered = try await client.request(
                "POST",
                "/v1/inbound/slack",
                body: challenge,
                headers: Self.signed(challenge)
            )
            #expect(answered.status == 200)
            #expect(try answered.json["challenge"] == .string("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"))
            // Unsigned, the challenge is refused like anything else.
            try await client.request(
                "POST",
                "/v1/inbound/slack",
                body: challenge,
                headers: Self.signed(challenge, secret: "x")
            )
            .expectProblem("unauthorized")
            #expect(try await admin.storedEvents("slack").isEmpty)

            let callback = #"{"type":"event_callback","event_id":"Ev01","event":{"type":"app_mention","text":"hi"}}"#
            let published = try await client.request(
                "POST",
                "/v1/inbound/slack",
                body: callback,
                headers: Self.signed(callback)
            )
            #expect(published.status == 202, "body: \(published.body)")
            #expect(try await admin.storedEvents("slack").first?["type"] == .string("app_mention"))
            let log = try await admin.request("GET", "/v1/sources/slack/requests").json["requests"]?.arrayValue ?? []
            #expect(log.last?["challenge"] == .bool(true))
        }
    }
}

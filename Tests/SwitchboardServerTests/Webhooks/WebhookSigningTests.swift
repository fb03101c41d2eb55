import Crypto
import Foundation
import SwitchboardCore
import SwitchboardTestSupport
import Testing

/// Signatures on deliveries: secret rotation (two `v1` signatures while the old secret is valid) and
/// Ed25519 (`v1a`) endpoints.
@Suite("Webhook signing")
struct WebhookSigningTests {
    /// Whether the request's signature header (or just `signatures`) verifies with exactly these keys.
    private static func verifies(
        _ request: TestWebhookReceiver.Received,
        signatures: String? = nil,
        body: [UInt8]? = nil,
        hmacKey: [UInt8]? = nil,
        publicKey: Curve25519.Signing.PublicKey? = nil
    ) -> Bool {
        let result = WebhookSignature.verify(
            id: request.headers["webhook-id"] ?? "",
            timestamp: request.headers["webhook-timestamp"] ?? "",
            signatures: signatures ?? request.headers["webhook-signature"] ?? "",
            body: body ?? request.body,
            hmacKeys: hmacKey.map { [$0] } ?? [],
            publicKeys: publicKey.map { [$0] } ?? [],
            now: Int64(Date().timeIntervalSince1970)
        )
        if case .success = result { return true }
        return false
    }

    @Test("After rotation a delivery carries two v1 signatures: one by the old secret, one by the new")
    func rotation() async throws {
        let receiver = try await TestWebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await TestServer.with(configure: WebhookTest.configure()) { server in
            let http = TestHTTP(server)
            let endpoint = try await WebhookTest.createEndpoint(
                http,
                body: #"{"url":"\#(receiver.url)","channels":["orders"]}"#
            )
            let id = try WebhookTest.id(of: endpoint)
            let old = try WebhookSecret(try #require(endpoint["secret"]?.stringValue))

            let before = try #require(try await http.publish("orders")["id"]?.stringValue)
            let first = try #require(try await WebhookTest.requests(to: receiver, webhookID: before).first)
            let firstSignatures = (first.headers["webhook-signature"] ?? "").split(separator: " ")
            #expect(firstSignatures.count == 1)
            #expect(Self.verifies(first, hmacKey: old.key))

            let rotated = try await http.request("POST", "/v1/endpoints/\(id)/rotate-secret")
            #expect(rotated.status == 200, "body: \(rotated.body)")
            let newText = try #require(try rotated.json["secret"]?.stringValue)
            #expect(newText.hasPrefix("whsec_"))
            let new = try WebhookSecret(newText)
            #expect(new.key != old.key)
            // GET never shows a secret.
            let read = try await http.request("GET", "/v1/endpoints/\(id)")
            #expect(try read.json["secret"] == nil)
            #expect(!read.body.contains(newText) && !read.body.contains(old.text))

            let after = try #require(try await http.publish("orders")["id"]?.stringValue)
            let second = try #require(try await WebhookTest.requests(to: receiver, webhookID: after).first)
            let signatures = (second.headers["webhook-signature"] ?? "").split(separator: " ").map(String.init)
            try #require(signatures.count == 2, "webhook-signature: \(second.headers["webhook-signature"] ?? "")")
            #expect(signatures.allSatisfy { $0.hasPrefix("v1,") })
            let byOld = signatures.filter { Self.verifies(second, signatures: $0, hmacKey: old.key) }
            let byNew = signatures.filter { Self.verifies(second, signatures: $0, hmacKey: new.key) }
            #expect(byOld.count == 1)
            #expect(byNew.count == 1)
            #expect(byOld != byNew)
            var generator = RandomBitsGenerator.system
            let stranger = WebhookSecret.random(using: &generator)
            #expect(!Self.verifies(second, hmacKey: stranger.key))
            #expect(!Self.verifies(second, body: Array(#"{"forged":true}"#.utf8), hmacKey: new.key))
        }
    }

    @Test("An ed25519 endpoint shows a whpk_ public key, never a private key, and signs with v1a")
    func ed25519() async throws {
        let receiver = try await TestWebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await TestServer.with(configure: WebhookTest.configure()) { server in
            let http = TestHTTP(server)
            let created = try await http.request(
                "POST",
                "/v1/endpoints",
                body: #"{"url":"\#(receiver.url)","channels":["orders"],"signing":"ed25519"}"#
            )
            try #require(created.status == 201, "body: \(created.body)")
            let endpoint = try created.json
            let id = try WebhookTest.id(of: endpoint)
            #expect(endpoint["signing"]?.stringValue == "ed25519")
            let publicKeyText = try #require(endpoint["publicKey"]?.stringValue)
            #expect(publicKeyText.hasPrefix("whpk_"))
            #expect(endpoint["secret"]?.stringValue?.hasPrefix("whsec_") != true)
            #expect(!created.body.contains("whsec_") && !created.body.contains("whsk_"))
            let read = try await http.request("GET", "/v1/endpoints/\(id)")
            #expect(try read.json["publicKey"]?.stringValue == publicKeyText)
            #expect(!read.body.contains("whsk_"))

            let raw = try #require(Data(base64Encoded: String(publicKeyText.dropFirst("whpk_".count))))
            let publicKey = try Curve25519.Signing.PublicKey(rawRepresentation: raw)

            let eventID = try #require(try await http.publish("orders", data: #"{"total":12}"#)["id"]?.stringValue)
            let request = try #require(try await WebhookTest.requests(to: receiver, webhookID: eventID).first)
            let signatures = (request.headers["webhook-signature"] ?? "").split(separator: " ")
            #expect(signatures.count == 1)
            #expect(signatures.allSatisfy { $0.hasPrefix("v1a,") })
            #expect(Self.verifies(request, publicKey: publicKey))
            #expect(!Self.verifies(request, publicKey: Curve25519.Signing.PrivateKey().publicKey))
            #expect(!Self.verifies(request, body: Array(#"{"total":13}"#.utf8), publicKey: publicKey))

            // It makes its own key pair: a secret offered to its rotation conflicts with its signing.
            try await http.request(
                "POST",
                "/v1/endpoints/\(id)/rotate-secret",
                body: #"{"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}"#
            ).expectProblem("conflict")
            #expect(
                try await http.request("GET", "/v1/endpoints/\(id)").json["publicKey"]?.stringValue == publicKeyText
            )
        }
    }
}

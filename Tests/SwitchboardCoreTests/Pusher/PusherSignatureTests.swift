import SwitchboardCore
import Testing

/// The Pusher protocol's signatures against the examples of Pusher's own documentation (and, for the
/// user sign-in, the official Python server library's output for the same app).
@Suite("Pusher signatures")
struct PusherSignatureTests {
    static let key = "278d425bdf160c739803"
    static let secret = Array("7ad3773142a6692b25b8".utf8)

    @Test("A private channel's auth is the key and the HMAC of socket id and channel")
    func privateChannel() {
        let auth = PusherSignature.channelAuth(
            key: Self.key,
            secret: Self.secret,
            socketID: "1234.1234",
            channel: "private-foobar"
        )
        #expect(auth == "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4")
    }

    @Test("A presence channel's auth signs the channel data too")
    func presenceChannel() {
        let auth = PusherSignature.channelAuth(
            key: Self.key,
            secret: Self.secret,
            socketID: "1234.1234",
            channel: "presence-foobar",
            channelData: #"{"user_id":10,"user_info":{"name":"Mr. Channels"}}"#
        )
        #expect(auth == "278d425bdf160c739803:31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80")
    }

    @Test("A user sign-in signs socket id, the word user and the user data")
    func userSignIn() {
        let auth = PusherSignature.userAuth(
            key: Self.key,
            secret: Self.secret,
            socketID: "1234.1234",
            userData: #"{"id": "10"}"#
        )
        #expect(auth == "278d425bdf160c739803:4b29f632a909337b0cc399986343b203ab880c0f3032671ddbc34e21f7c083f8")
    }

    @Test("A presented auth matches only the expected one, whole")
    func matching() {
        let expected = PusherSignature.channelAuth(key: "k", secret: [1, 2], socketID: "1.2", channel: "private-a")
        #expect(PusherSignature.matches(expected, expected: expected))
        #expect(!PusherSignature.matches(String(expected.dropLast()), expected: expected))
        #expect(!PusherSignature.matches(expected + "0", expected: expected))
        #expect(!PusherSignature.matches("", expected: expected))
    }
}

/// The HTTP API's request signature, against the example of Pusher's REST API documentation.
@Suite("Pusher HTTP API authentication")
struct PusherAPIAuthenticationTests {
    static let body = Array(#"{"name":"foo","channels":["project-3"],"data":"{\"some\":\"data\"}"}"#.utf8)
    static let now: Int64 = 1_353_088_179

    static func parameters(signature: String = "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c")
        -> [(String, String)]
    {
        [
            ("auth_key", PusherSignatureTests.key), ("auth_timestamp", "1353088179"), ("auth_version", "1.0"),
            ("body_md5", "ec365a775a4cd0599faeb73354201b6f"), ("auth_signature", signature),
        ]
    }

    static func verify(
        _ parameters: [(String, String)],
        body: [UInt8] = body,
        now: Int64 = now,
        path: String = "/apps/3/events"
    ) -> PusherAPIAuthentication.Refusal? {
        PusherAPIAuthentication.refusal(
            method: "POST",
            path: path,
            parameters: parameters,
            body: body,
            key: PusherSignatureTests.key,
            secret: PusherSignatureTests.secret,
            now: now
        )
    }

    @Test("The documented trigger request is accepted, its body's MD5 and signature as documented")
    func documentedExample() {
        #expect(PusherSignature.bodyMD5(Self.body) == "ec365a775a4cd0599faeb73354201b6f")
        #expect(Self.verify(Self.parameters()) == nil)
        #expect(Self.verify(Array(Self.parameters().reversed())) == nil)
        #expect(Self.verify(Self.parameters(), now: Self.now + 600) == nil)
    }

    @Test("A changed body, path, key, version or signature, or a stale timestamp, is refused")
    func refusals() {
        #expect(Self.verify(Self.parameters(), body: Array("{}".utf8)) == .bodyDigestMismatch)
        #expect(Self.verify(Self.parameters(), path: "/apps/4/events") == .signatureMismatch)
        #expect(
            Self.verify(Self.parameters(signature: String(repeating: "0", count: 64))) == .signatureMismatch
        )
        #expect(Self.verify(Self.parameters(), now: Self.now + 601) == .timestampOutOfTolerance)
        #expect(Self.verify(Self.parameters(), now: Self.now - 601) == .timestampOutOfTolerance)
        var otherKey = Self.parameters()
        otherKey[0].1 = "someone-else"
        #expect(Self.verify(otherKey) == .unknownKey)
        var version = Self.parameters()
        version[2].1 = "2.0"
        #expect(Self.verify(version) == .unsupportedVersion)
        var absurdTime = Self.parameters()
        absurdTime[1].1 = "-9223372036854775808"
        #expect(Self.verify(absurdTime) == .timestampOutOfTolerance)
    }

    @Test("Each signed parameter is required; body_md5 only with a body")
    func missing() {
        for name in ["auth_key", "auth_timestamp", "auth_version", "auth_signature", "body_md5"] {
            let without = Self.parameters().filter { $0.0 != name }
            #expect(Self.verify(without) == .missingParameter(name))
        }
        let get = [("auth_key", PusherSignatureTests.key), ("auth_timestamp", "1353088179"), ("auth_version", "1.0")]
        let signature = PusherSignature.apiSignature(
            method: "GET",
            path: "/apps/3/channels",
            parameters: get,
            secret: PusherSignatureTests.secret
        )
        let refusal = PusherAPIAuthentication.refusal(
            method: "GET",
            path: "/apps/3/channels",
            parameters: get + [("auth_signature", signature)],
            body: [],
            key: PusherSignatureTests.key,
            secret: PusherSignatureTests.secret,
            now: Self.now
        )
        #expect(refusal == nil)
    }
}

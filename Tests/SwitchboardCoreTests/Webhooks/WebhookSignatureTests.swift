import Testing

@testable import SwitchboardCore

@Suite("Verifying webhook signatures")
struct WebhookSignatureTests {
    private let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    private let id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    private let timestamp = "1614265330"
    private let body = Array(#"{"test": 2432232314}"#.utf8)
    private let signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    /// Verifies against the Standard Webhooks example, with any part replaced.
    private func verify(
        id: String? = nil,
        timestamp: String? = nil,
        signatures: String? = nil,
        body: [UInt8]? = nil,
        secret: String? = nil,
        now: Int64 = 1_614_265_330
    ) throws -> WebhookSignature.Failure? {
        let key = try WebhookSecret(secret ?? self.secret).key
        let result = WebhookSignature.verify(
            id: id ?? self.id,
            timestamp: timestamp ?? self.timestamp,
            signatures: signatures ?? signature,
            body: body ?? self.body,
            hmacKeys: [key],
            now: now
        )
        if case .failure(let failure) = result { return failure }
        return nil
    }

    @Test("The Standard Webhooks published vector verifies")
    func acceptsStandardVector() throws {
        #expect(try verify() == nil)
    }

    @Test("A body with one altered byte is refused", arguments: [0, 1, 9, 19])
    func refusesAlteredBody(position: Int) throws {
        var altered = body
        altered[position] ^= 0x01
        #expect(try verify(body: altered) == .noMatch)
    }

    @Test("A different id, timestamp or secret does not match")
    func refusesOtherContent() throws {
        #expect(try verify(id: "msg_p5jXN8AQM9LWM0D4loKWxJel") == .noMatch)
        #expect(try verify(timestamp: "1614265331", now: 1_614_265_331) == .noMatch)
        #expect(try verify(body: body + [0x0A]) == .noMatch)
        #expect(try verify(secret: "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSx") == .noMatch)
    }

    @Test(
        "A timestamp more than five minutes from now is refused, in either direction",
        arguments: [(301, true), (-301, true), (86_400, true), (300, false), (-300, false), (0, false)]
            as [(Int64, Bool)]
    )
    func enforcesTolerance(secondsFromTimestamp: Int64, refused: Bool) throws {
        let result = try verify(now: 1_614_265_330 + secondsFromTimestamp)
        #expect(result == (refused ? .timestampOutOfTolerance : nil))
    }

    @Test(
        "A timestamp at the limits of a 64-bit integer is refused, not a crash",
        arguments: ["-9223372036854775808", "9223372036854775807", "-1614265330"]
    )
    func refusesExtremeTimestamps(timestamp: String) throws {
        #expect(try verify(timestamp: timestamp) == .timestampOutOfTolerance)
    }

    @Test("An empty id is malformed")
    func refusesEmptyID() throws {
        guard case .malformed = try verify(id: "") else {
            Issue.record("an empty webhook-id was not reported as malformed")
            return
        }
    }

    @Test(
        "A timestamp that is not an integer is malformed",
        arguments: ["", "abc", "1614265330.0", "1614265330s", "2021-02-25T15:02:10Z", " 1614265330"]
    )
    func refusesNonIntegerTimestamps(timestamp: String) throws {
        guard case .malformed = try verify(timestamp: timestamp) else {
            Issue.record("webhook-timestamp \(timestamp) was not reported as malformed")
            return
        }
    }

    @Test(
        "A signature header without a matching v1 entry does not match",
        arguments: [
            "", " ", "v1", "v1,", "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "v1,!!!!",
            "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            "V1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=",
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJE", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=AAAA",
            "v1;g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ]
    )
    func refusesMalformedSignatures(signatures: String) throws {
        #expect(try verify(signatures: signatures) == .noMatch)
    }

    @Test(
        "The right signature is found among several space-separated ones",
        arguments: [
            "v1,Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHE= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            "v1a,bm90IGFuIGVkMjU1MTkgc2lnbmF0dXJl v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            "v2,xyz v1,!!! v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,AAAA",
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHE=",
        ]
    )
    func findsSignatureAmongSeveral(signatures: String) throws {
        #expect(try verify(signatures: signatures) == nil)
    }

    @Test("A signature by any of several keys is accepted; by none of them it is not")
    func triesEveryKey() throws {
        let right = try WebhookSecret(secret).key
        let other = try WebhookSecret("whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSx").key
        func check(_ keys: [[UInt8]]) -> Bool {
            if case .success = WebhookSignature.verify(
                id: id,
                timestamp: timestamp,
                signatures: signature,
                body: body,
                hmacKeys: keys,
                now: 1_614_265_330
            ) {
                return true
            }
            return false
        }
        #expect(check([other, right]))
        #expect(check([right, other]))
        #expect(!check([other]))
        #expect(!check([]))
    }

    @Test("Failures describe themselves for logs")
    func describesFailures() {
        #expect(WebhookSignature.Failure.noMatch.description == "no signature matches")
        #expect(WebhookSignature.Failure.malformed("webhook-id is empty").description.contains("webhook-id is empty"))
        #expect(WebhookSignature.Failure.timestampOutOfTolerance.description.contains("tolerance"))
    }
}

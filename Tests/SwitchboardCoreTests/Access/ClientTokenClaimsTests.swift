import Testing

@testable import SwitchboardCore

@Suite("Client token claims")
struct ClientTokenClaimsTests {
    private let now = Timestamp(millisecondsSinceEpoch: 1_800_000_000_000)

    private func claims(_ json: String, requirements: ClientTokenClaims.Requirements = .init()) throws(SwitchboardError)
        -> Principal
    {
        let payload: JSONValue
        do {
            payload = try JSONParser.parse(json)
        } catch {
            throw SwitchboardError(.badRequest, "test JSON")
        }
        return try ClientTokenClaims(payload: payload, now: now, requirements: requirements).principal
    }

    private func refusal(_ json: String, requirements: ClientTokenClaims.Requirements = .init()) -> SwitchboardError? {
        do {
            _ = try claims(json, requirements: requirements)
            return nil
        } catch {
            return error
        }
    }

    @Test("sub, channels, publish, info and exp become the principal")
    func readsClaims() throws {
        let principal = try claims(
            #"{"sub":"alice","exp":1800000060,"channels":["chat:*","news"],"publish":["chat:1"],"info":{"name":"Alice"}}"#
        )
        #expect(principal.user == "alice")
        #expect(principal.subscribePatterns.map(\.rawValue) == ["chat:*", "news"])
        #expect(principal.publishPatterns.map(\.rawValue) == ["chat:1"])
        #expect(principal.info == .object([("name", .string("Alice"))]))
        #expect(principal.expires == Timestamp(millisecondsSinceEpoch: 1_800_000_060_000))
        #expect(!principal.isAdmin && !principal.isAnonymous && principal.keyID == nil)
    }

    @Test("An expired token, or one not valid yet, is unauthorized")
    func timeClaims() {
        #expect(refusal(#"{"sub":"a","exp":1800000000}"#)?.code == .unauthorized)
        #expect(refusal(#"{"sub":"a","exp":1799999999.5}"#)?.detail.contains("expired") == true)
        #expect(refusal(#"{"sub":"a","nbf":1800000001}"#)?.code == .unauthorized)
        #expect(refusal(#"{"sub":"a","nbf":1800000000,"exp":1800000001}"#) == nil)
    }

    @Test(
        "Numeric date claims out of range are unauthorized, never a trap",
        arguments: [
            #"{"exp":9223372036854775807}"#, #"{"exp":1e16}"#, #"{"exp":1e300}"#, #"{"exp":-1}"#,
            #"{"nbf":9223372036854775807}"#, #"{"nbf":-1e300}"#, #"{"iat":1e300}"#, #"{"iat":"yesterday"}"#,
            #"{"exp":253402300800}"#,
        ]
    )
    func outOfRangeDates(json: String) {
        let error = refusal(json)
        #expect(error?.code == .unauthorized)
        #expect(error?.detail.contains("invalid token") == true)
    }

    @Test("The latest expiry allowed, the last second of 9999, is accepted and kept exactly")
    func latestExpiry() throws {
        let principal = try claims(#"{"sub":"a","exp":253402300799,"iat":1800000000}"#)
        #expect(principal.expires == Timestamp(millisecondsSinceEpoch: 253_402_300_799_000))
    }

    @Test("Malformed claims are refused as unauthorized")
    func malformed() {
        for json in [
            #"[]"#, #"{"sub":7}"#, #"{"exp":"soon"}"#, #"{"channels":"chat:*"}"#, #"{"channels":["a*b"]}"#,
            #"{"publish":[1]}"#,
        ] {
            #expect(refusal(json)?.code == .unauthorized, "\(json)")
        }
    }

    @Test("A configured issuer and audience must match")
    func issuerAndAudience() {
        let required = ClientTokenClaims.Requirements(issuer: "backend", audience: "switchboard")
        #expect(refusal(#"{"iss":"backend","aud":"switchboard"}"#, requirements: required) == nil)
        #expect(refusal(#"{"iss":"backend","aud":["x","switchboard"]}"#, requirements: required) == nil)
        #expect(refusal(#"{"iss":"other","aud":"switchboard"}"#, requirements: required)?.code == .unauthorized)
        #expect(refusal(#"{"iss":"backend","aud":"other"}"#, requirements: required)?.code == .unauthorized)
        #expect(refusal(#"{"iss":"backend"}"#, requirements: required)?.code == .unauthorized)
    }

    @Test("An empty or missing sub is a token without a user")
    func noUser() throws {
        #expect(try claims(#"{"sub":""}"#).user == nil)
        #expect(try claims(#"{}"#).user == nil)
    }
}

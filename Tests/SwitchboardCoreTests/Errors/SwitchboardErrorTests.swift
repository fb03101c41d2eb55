import Testing

@testable import SwitchboardCore

@Suite("Switchboard errors")
struct SwitchboardErrorTests {
    @Test(
        "Codes print as the protocol's wire names and map to its HTTP statuses",
        arguments: [
            (SwitchboardError.Code.badRequest, "bad_request", 400),
            (.invalidChannel, "invalid_channel", 400),
            (.invalidType, "invalid_type", 400),
            (.tooLarge, "too_large", 413),
            (.unauthorized, "unauthorized", 401),
            (.forbidden, "forbidden", 403),
            (.notFound, "not_found", 404),
            (.conflict, "conflict", 409),
            (.rateLimited, "rate_limited", 429),
            (.unavailable, "unavailable", 503),
            (.internalError, "internal", 500),
            (.unknownOp, "unknown_op", 400),
        ]
    )
    func wireNames(code: SwitchboardError.Code, name: String, status: Int) {
        #expect(code.description == name)
        #expect("\(code)" == name)
        #expect(code.httpStatus == status)
        #expect(!code.title.isEmpty)
    }

    @Test("Every code has its own wire name")
    func wireNamesAreDistinct() {
        let codes: [SwitchboardError.Code] = [
            .badRequest, .invalidChannel, .invalidType, .tooLarge, .unauthorized, .forbidden, .notFound, .conflict,
            .rateLimited, .unavailable, .internalError, .unknownOp,
        ]
        #expect(Set(codes.map(\.description)).count == codes.count)
        #expect(Set(codes).count == codes.count)
    }

    @Test("Naming a batch item keeps the code and detail")
    func atIndex() {
        let error = SwitchboardError(.invalidChannel, "bad").at(index: 4)
        #expect(error.code == .invalidChannel)
        #expect(error.detail == "bad")
        #expect(error.index == 4)
        #expect(SwitchboardError(.invalidChannel, "bad").index == nil)
    }

    @Test("A rate-limit error carries its retry delay")
    func retryAfter() {
        let error = SwitchboardError(.rateLimited, "slow down", retryAfterSeconds: 30)
        #expect(error.retryAfterSeconds == 30)
        #expect(error.code.httpStatus == 429)
    }
}

import Testing

@testable import SwitchboardCore

@Suite("WebSocket close codes")
struct CloseCodeTests {
    @Test(
        "Close codes have the numbers the protocol gives them",
        arguments: [
            (CloseCode.normal, UInt16(1000)), (.goingAway, 1001), (.policy, 1008), (.frameTooBig, 1009),
            (.internalError, 1011), (.restarting, 1012), (.unauthorized, 4001), (.forbidden, 4003),
            (.slowConsumer, 4008), (.rateLimited, 4029),
        ]
    )
    func numbers(code: CloseCode, number: UInt16) {
        #expect(code.rawValue == number)
        #expect(CloseCode(rawValue: number) == code)
    }
}

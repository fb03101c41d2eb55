import Testing

@testable import SwitchboardCore

@Suite("Retry-After values")
struct RetryAfterTests {
    private let date = "Sun, 06 Nov 1994 08:49:37 GMT"

    private func dateTimestamp() throws -> Timestamp {
        try #require(Timestamp(rfc3339: "1994-11-06T08:49:37Z"))
    }

    @Test(
        "Delay-seconds are read as seconds",
        arguments: [("120", Duration.seconds(120)), ("0", .zero), (" 5 ", .seconds(5)), ("1\t", .seconds(1))]
    )
    func readsSeconds(value: String, expected: Duration) {
        #expect(RetryAfter.delay(value, now: Timestamp(millisecondsSinceEpoch: 0)) == expected)
    }

    @Test("A very long delay is capped at seven days")
    func capsSeconds() {
        #expect(RetryAfter.delay("99999999", now: Timestamp(millisecondsSinceEpoch: 0)) == .seconds(604_800))
    }

    @Test("An HTTP date is read relative to now")
    func readsDate() throws {
        let when = try dateTimestamp()
        let now = Timestamp(millisecondsSinceEpoch: when.millisecondsSinceEpoch - 30_000)
        #expect(RetryAfter.delay(date, now: now) == .seconds(30))
        let earlier = Timestamp(millisecondsSinceEpoch: when.millisecondsSinceEpoch - 3_600_500)
        #expect(RetryAfter.delay(date, now: earlier) == .milliseconds(3_600_500))
    }

    @Test("An HTTP date in the past, or now, means no delay", arguments: [0, 1, 30_000, 86_400_000])
    func pastDateIsZero(millisecondsLater: Int64) throws {
        let now = Timestamp(millisecondsSinceEpoch: try dateTimestamp().millisecondsSinceEpoch + millisecondsLater)
        #expect(RetryAfter.delay(date, now: now) == .zero)
    }

    @Test("An HTTP date far ahead is capped at seven days")
    func capsDate() throws {
        let now = Timestamp(millisecondsSinceEpoch: try dateTimestamp().millisecondsSinceEpoch - 30 * 86_400_000)
        #expect(RetryAfter.delay(date, now: now) == .seconds(604_800))
    }

    @Test(
        "Values that are neither delay-seconds nor an HTTP date give nil",
        arguments: [
            "", " ", "soon", "12.5", "1e3", "120s", "Sun, 06 Nov 1994 08:49:37 PST", "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 06 Nov 1994 08:49 GMT",
            "1994-11-06T08:49:37Z", "Sun, 06 Nov 1994",
        ]
    )
    func garbageIsNil(value: String) {
        #expect(RetryAfter.delay(value, now: Timestamp(millisecondsSinceEpoch: 0)) == nil)
    }

    @Test("Negative delay-seconds give nil", arguments: ["-1", "-120", "-0.5"])
    func negativeIsNil(value: String) {
        #expect(RetryAfter.delay(value, now: Timestamp(millisecondsSinceEpoch: 0)) == nil)
    }
}

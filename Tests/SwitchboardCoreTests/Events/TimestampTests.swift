import Testing

@testable import SwitchboardCore

@Suite("Timestamps")
struct TimestampTests {
    @Test(
        "Times are written as RFC 3339 UTC with milliseconds",
        arguments: [
            (Int64(1_795_389_601_123), "2026-11-22T23:20:01.123Z"),
            (0, "1970-01-01T00:00:00.000Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (1_735_689_599_999, "2024-12-31T23:59:59.999Z"),
            (1_795_389_601_007, "2026-11-22T23:20:01.007Z"),
            (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
            (-62_135_596_800_000, "0001-01-01T00:00:00.000Z"),
        ]
    )
    func formats(milliseconds: Int64, text: String) {
        let timestamp = Timestamp(millisecondsSinceEpoch: milliseconds)
        #expect(timestamp.description == text)
        #expect(Timestamp(rfc3339: text) == timestamp)
    }

    @Test(
        "RFC 3339 times with Z or a numeric offset, with or without a fraction, are read as UTC",
        arguments: [
            ("2026-11-22T23:20:01.123Z", Int64(1_795_389_601_123)),
            ("2026-11-23T01:20:01.123+02:00", 1_795_389_601_123),
            ("2026-11-22T18:50:01.123-04:30", 1_795_389_601_123),
            ("2026-11-22T23:20:01.123+00:00", 1_795_389_601_123),
            ("2026-11-22T23:20:01.123-00:00", 1_795_389_601_123),
            ("2026-11-23T08:20:01.123+09:00", 1_795_389_601_123),
            ("2026-11-22T23:20:01Z", 1_795_389_601_000),
            ("2026-11-22T23:20:01.1Z", 1_795_389_601_100),
            ("2026-11-22T23:20:01.12Z", 1_795_389_601_120),
            ("2026-11-22T23:20:01.123456Z", 1_795_389_601_123),
            ("2026-11-22T23:20:01.999999999+01:00", 1_795_386_001_999),
            ("2026-11-22t23:20:01.123z", 1_795_389_601_123),
            ("2026-11-22 23:20:01.123Z", 1_795_389_601_123),
            ("1970-01-01T00:00:00Z", 0),
            ("1970-01-01T00:00:00+01:00", -3_600_000),
            ("2024-02-29T12:00:00Z", 1_709_208_000_000),
            ("2000-02-29T00:00:00.000Z", 951_782_400_000),
        ]
    )
    func parses(text: String, milliseconds: Int64) {
        #expect(Timestamp(rfc3339: text)?.millisecondsSinceEpoch == milliseconds)
    }

    @Test(
        "Text that is not an RFC 3339 date-time is refused",
        arguments: [
            "", "2026", "2026-11-22", "2026-11-22T23:20:01", "2026-11-22T23:20:01.123", "2026-11-22T23:20Z",
            "2026-11-22T23:20:01.Z", "2026-11-22T23:20:01,123Z", "2026-11-22T23:20:01.123+0200",
            "2026-11-22T23:20:01.123+02", "2026-11-22T23:20:01.123+2:00", "2026-11-22T23:20:01.123Zjunk",
            "2026-11-22T23:20:01.123Z ", " 2026-11-22T23:20:01.123Z", "2026/11/22T23:20:01Z", "20261122T232001Z",
            "2026-11-22X23:20:01Z", "26-11-22T23:20:01Z", "2026-1-22T23:20:01Z", "2026-11-22T23:20:01.123UTC",
            "2026-11-22T23:20:01.123GMT", "yyyy-mm-ddThh:mm:ssZ",
            // Fields out of range.
            "2026-00-01T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-00T00:00:00Z", "2026-11-32T00:00:00Z",
            "2026-11-22T24:00:00Z", "2026-11-22T23:60:00Z", "2026-11-22T23:59:61Z",
            // Days that do not exist in their month.
            "2026-02-29T00:00:00Z", "2026-02-30T00:00:00Z", "1900-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
            "2026-06-31T00:00:00Z", "2026-09-31T00:00:00Z", "2026-11-31T00:00:00Z",
            // Offsets out of range.
            "2026-11-22T23:20:01+24:00", "2026-11-22T23:20:01+02:60", "2026-11-22T23:20:01-99:99",
        ]
    )
    func refuses(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    @Test("The last day of every month is accepted")
    func acceptsLastDayOfEachMonth() {
        let lastDays = [
            "01-31", "02-28", "03-31", "04-30", "05-31", "06-30", "07-31", "08-31", "09-30", "10-31", "11-30", "12-31",
        ]
        for monthDay in lastDays {
            #expect(Timestamp(rfc3339: "2026-\(monthDay)T12:00:00Z") != nil, "2026-\(monthDay)")
        }
        #expect(Timestamp(rfc3339: "2024-02-29T00:00:00Z") != nil)
        #expect(Timestamp(rfc3339: "2000-02-29T00:00:00Z") != nil)
    }

    @Test("Every written time reads back to the same millisecond")
    func roundTrips() {
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<2_000 {
            let milliseconds = Int64.random(in: -62_135_596_800_000...253_402_300_799_999, using: &generator)
            let timestamp = Timestamp(millisecondsSinceEpoch: milliseconds)
            #expect(timestamp.description.utf8.count == 24)
            #expect(Timestamp(rfc3339: timestamp.description) == timestamp, "\(milliseconds)")
        }
    }

    @Test("Timestamps order by time")
    func ordersByTime() throws {
        let earlier = try #require(Timestamp(rfc3339: "2026-11-23T00:20:01.123+02:00"))
        let later = try #require(Timestamp(rfc3339: "2026-11-22T23:20:01.123Z"))
        #expect(earlier < later)
        #expect([later, earlier].sorted() == [earlier, later])
    }
}

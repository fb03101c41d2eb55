import Testing

@testable import SwitchboardCore

@Suite("Webhook retry schedules")
struct RetryScheduleTests {
    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }

    @Test("The standard schedule is PROTOCOL.md's 8 attempts: now, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, ±20 %")
    func standardSchedule() {
        let standard = RetrySchedule.standard
        #expect(standard.attempts == 8)
        #expect(
            standard.delays == [
                .zero, .seconds(5), .seconds(300), .seconds(1800), .seconds(7200), .seconds(18_000), .seconds(36_000),
                .seconds(36_000),
            ]
        )
        #expect(standard.jitter == 0.2)
        #expect(standard.description == "0s,5s,5m,30m,2h,5h,10h,10h")
    }

    @Test("Jitter keeps every delay within ±20 % of its base and spreads delays to both sides")
    func jitterStaysWithinBounds() throws {
        var generator = SeededGenerator(seed: 2026)
        let standard = RetrySchedule.standard
        for attempt in 1..<standard.attempts {
            let base = seconds(standard.delays[attempt])
            var smallest = Double.infinity
            var largest = 0.0
            for _ in 0..<500 {
                let delay = seconds(try #require(standard.delay(afterAttempts: attempt, using: &generator)))
                #expect(delay >= base * 0.8 * (1 - 1e-9))
                #expect(delay <= base * 1.2 * (1 + 1e-9))
                smallest = min(smallest, delay)
                largest = max(largest, delay)
            }
            #expect(smallest < base * 0.85)
            #expect(largest > base * 1.15)
        }
    }

    @Test("The same random source gives the same delays")
    func jitterIsDeterministicForASeed() {
        var first = SeededGenerator(seed: 8)
        var second = SeededGenerator(seed: 8)
        for attempt in 0..<RetrySchedule.standard.attempts {
            #expect(
                RetrySchedule.standard.delay(afterAttempts: attempt, using: &first)
                    == RetrySchedule.standard.delay(afterAttempts: attempt, using: &second)
            )
        }
    }

    @Test("A zero delay stays zero whatever the jitter")
    func zeroDelayStaysZero() {
        var generator = SeededGenerator(seed: 3)
        for _ in 0..<100 {
            #expect(RetrySchedule.standard.delay(afterAttempts: 0, using: &generator) == .zero)
        }
    }

    @Test("Without jitter the delays are exact")
    func noJitterIsExact() {
        var generator = SeededGenerator(seed: 3)
        let schedule = RetrySchedule(delays: [.seconds(1), .milliseconds(1500)], jitter: 0)
        #expect(schedule.delay(afterAttempts: 0, using: &generator) == .seconds(1))
        #expect(schedule.delay(afterAttempts: 1, using: &generator) == .milliseconds(1500))
    }

    @Test("No delay is given once every attempt is used, nor for a negative count", arguments: [8, 9, 1000, -1])
    func noDelayBeyondLastAttempt(attempts: Int) {
        var generator = SeededGenerator(seed: 3)
        #expect(RetrySchedule.standard.delay(afterAttempts: attempts, using: &generator) == nil)
    }

    @Test("The last attempt still has a delay")
    func lastAttemptHasDelay() throws {
        var generator = SeededGenerator(seed: 3)
        let delay = try #require(RetrySchedule.standard.delay(afterAttempts: 7, using: &generator))
        #expect(delay >= .seconds(28_800) && delay <= .seconds(43_200))
    }

    @Test("An empty list is one immediate attempt, and jitter is clamped to 0...1")
    func normalisesArguments() {
        #expect(RetrySchedule(delays: []).delays == [.zero])
        #expect(RetrySchedule(delays: [.seconds(1)], jitter: 5).jitter == 1)
        #expect(RetrySchedule(delays: [.seconds(1)], jitter: -1).jitter == 0)
    }

    @Test("Delays parse from text with ms, s, m, h and d units, a bare number being seconds")
    func parsesText() throws {
        let schedule = try RetrySchedule(parsing: "0,250ms,5s,2m,1h,1d")
        #expect(
            schedule.delays == [
                .zero, .milliseconds(250), .seconds(5), .seconds(120), .seconds(3600), .seconds(86_400),
            ]
        )
        #expect(schedule.jitter == 0.2)
        #expect(try RetrySchedule(parsing: " 0, 5s ,30").delays == [.zero, .seconds(5), .seconds(30)])
        #expect(try RetrySchedule(parsing: "5s", jitter: 0.1).jitter == 0.1)
    }

    @Test(
        "Text that is not a list of durations is refused as bad_request",
        arguments: ["", ",", "5x", "-5s", "1.5s", "s", "ms", "5S", "5sec", "five", "5s;5m", "5s,-1", "1w"]
    )
    func refusesBadText(text: String) {
        let error = #expect(throws: SwitchboardError.self) { try RetrySchedule(parsing: text) }
        #expect(error?.code == .badRequest)
    }

    @Test(
        "A delay longer than 30 days is refused when parsed, so a retry time can never overflow",
        arguments: ["9000000000000000s", "31d", "2592001s", "0,5s,744h"]
    )
    func refusesAbsurdDelays(text: String) {
        let error = #expect(throws: SwitchboardError.self) { try RetrySchedule(parsing: text) }
        #expect(error?.detail.contains("30d") == true)
    }

    @Test("A schedule made in code clamps each delay to 0...30 days, and its jittered delays stay there")
    func clampsDelaysMadeInCode() throws {
        let schedule = RetrySchedule(delays: [.seconds(Int64.max / 2), .seconds(-5)], jitter: 1)
        #expect(schedule.delays == [RetrySchedule.longestDelay, .zero])
        var generator = RandomBitsGenerator.system
        let delay = schedule.delay(afterAttempts: 0, using: &generator)
        #expect(delay.map { $0 <= RetrySchedule.longestDelay * 2 } == true)
        #expect(try RetrySchedule(parsing: "30d").delays == [RetrySchedule.longestDelay])
    }

    @Test(
        "The description uses the largest whole unit and parses back to the same schedule",
        arguments: [
            ("0,250ms,5s,2m,1h,1d", "0s,250ms,5s,2m,1h,1d"),
            ("90,1500ms,60m,48h,120s", "90s,1500ms,1h,2d,2m"),
            ("0s,5s,5m,30m,2h,5h,10h,10h", "0s,5s,5m,30m,2h,5h,10h,10h"),
        ]
    )
    func descriptionRoundTrips(text: String, description: String) throws {
        let schedule = try RetrySchedule(parsing: text)
        #expect(schedule.description == description)
        #expect(try RetrySchedule(parsing: schedule.description) == schedule)
    }

    @Test("The standard schedule's description parses back to the standard schedule")
    func standardDescriptionRoundTrips() throws {
        #expect(try RetrySchedule(parsing: RetrySchedule.standard.description) == RetrySchedule.standard)
    }
}

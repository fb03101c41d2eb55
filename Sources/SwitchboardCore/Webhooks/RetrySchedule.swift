/// When a failed delivery is tried again: a list of delays, one per attempt (the first is the delay
/// before the first attempt), each with ±`jitter` applied so that retries of many deliveries spread out.
public struct RetrySchedule: Hashable, Sendable, CustomStringConvertible {
    /// Delay before attempt n+1 (index 0: before the first attempt).
    public let delays: [Duration]
    /// Fraction of each delay added or removed at random (0.2 = ±20 %).
    public let jitter: Double

    /// PROTOCOL.md's default: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, each ±20 %.
    public static let standard = RetrySchedule(
        delays: [
            .zero, .seconds(5), .seconds(300), .seconds(1800), .seconds(7200), .seconds(18_000),
            .seconds(36_000), .seconds(36_000),
        ],
        jitter: 0.2
    )

    /// The longest delay one retry may wait: 30 days. Longer ones are refused when parsed and clamped
    /// when made in code, so that adding a delay (and its jitter) to a time can never overflow.
    public static let longestDelay = Duration.seconds(30 * 86_400)

    /// Makes a schedule; an empty `delays` means one immediate attempt, and each delay is clamped to
    /// `0...longestDelay`.
    public init(delays: [Duration], jitter: Double = 0.2) {
        let clamped = delays.map { min(max($0, .zero), Self.longestDelay) }
        self.delays = clamped.isEmpty ? [.zero] : clamped
        self.jitter = min(max(jitter, 0), 1)
    }

    /// Parses a comma-separated list of delays: `0,5s,5m,30m,2h` (`ms`, `s`, `m`, `h`, `d`; a bare number is seconds).
    public init(parsing text: String, jitter: Double = 0.2) throws(SwitchboardError) {
        var delays: [Duration] = []
        for part in text.split(separator: ",") {
            delays.append(try Self.parseDelay(String(part.filter { $0 != " " })))
        }
        guard !delays.isEmpty else { throw SwitchboardError(.badRequest, "a retry schedule needs at least one delay") }
        self.init(delays: delays, jitter: jitter)
    }

    /// How many attempts a delivery gets in all.
    public var attempts: Int { delays.count }

    /// The delay before attempt number `attempt + 1`, after `attempt` attempts were made (0 before the
    /// first), with jitter; nil when no attempt is left.
    public func delay(afterAttempts attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration? {
        guard attempt >= 0, attempt < delays.count else { return nil }
        let base = delays[attempt]
        guard jitter > 0, base > .zero else { return base }
        let factor = 1 + Double.random(in: -jitter...jitter, using: &generator)
        return base * factor
    }

    /// `0s,5s,5m,…` as configured.
    public var description: String {
        delays.map(Self.format).joined(separator: ",")
    }

    /// Parses one retry delay (see `parseDuration`) of at most `longestDelay`.
    public static func parseDelay(_ text: String) throws(SwitchboardError) -> Duration {
        let delay = try parseDuration(text)
        guard delay <= longestDelay else {
            throw SwitchboardError(
                .badRequest,
                "\(JSONWriter.quoted(text)) is longer than the longest retry delay, 30d"
            )
        }
        return delay
    }

    /// Parses one duration: `250ms`, `5s`, `5m`, `2h`, `1d` or a bare number of seconds.
    public static func parseDuration(_ text: String) throws(SwitchboardError) -> Duration {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, milliseconds) in units where text.hasSuffix(suffix) {
            if suffix == "s" && text.hasSuffix("ms") { continue }
            if let value = Int64(text.dropLast(suffix.count)), value >= 0, value < Int64.max / milliseconds {
                return .milliseconds(value * milliseconds)
            }
        }
        if let seconds = Int64(text), seconds >= 0, seconds < Int64.max / 1000 { return .seconds(seconds) }
        throw SwitchboardError(.badRequest, "\(JSONWriter.quoted(text)) is not a duration like 250ms, 5s, 5m, 2h or 1d")
    }

    private static func format(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        for (suffix, unit) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)]
        where milliseconds >= unit && milliseconds % unit == 0 {
            return "\(milliseconds / unit)\(suffix)"
        }
        return milliseconds == 0 ? "0s" : "\(milliseconds)ms"
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    public var wholeMilliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}

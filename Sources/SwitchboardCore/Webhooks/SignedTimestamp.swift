/// A sender-chosen Unix time in seconds, as signed into a webhook, checked against now.
public enum SignedTimestamp {
    /// Whether `seconds` is within `toleranceSeconds` of `now`. The sender picks the timestamp, so an
    /// extreme one must be refused rather than overflow the subtraction.
    public static func isWithin(_ toleranceSeconds: Int64, of now: Int64, _ seconds: Int64) -> Bool {
        let (difference, overflow) = now.subtractingReportingOverflow(seconds)
        return !overflow && toleranceSeconds >= 0 && difference.magnitude <= UInt64(toleranceSeconds)
    }
}

/// Reads an HTTP `Retry-After` value: delay-seconds, or an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
public enum RetryAfter {
    /// The delay the value asks for, measured from `now`; nil when it cannot be read. Never negative.
    public static func delay(_ value: String, now: Timestamp) -> Duration? {
        let text = value.trimmingSpaces
        if let seconds = Int64(text) {
            return seconds >= 0 ? .seconds(min(seconds, 86_400 * 7)) : nil
        }
        guard let date = parseIMFFixdate(text) else { return nil }
        let milliseconds = max(0, date.millisecondsSinceEpoch - now.millisecondsSinceEpoch)
        return .milliseconds(min(milliseconds, 86_400_000 * 7))
    }

    /// `Sun, 06 Nov 1994 08:49:37 GMT` as a timestamp.
    static func parseIMFFixdate(_ text: String) -> Timestamp? {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]),
            let month = months.firstIndex(of: String(parts[2])), let year = Int(parts[3])
        else { return nil }
        let clock = parts[4].split(separator: ":")
        guard clock.count == 3, let hour = Int(clock[0]), let minute = Int(clock[1]), let second = Int(clock[2]) else {
            return nil
        }
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let rfc3339 =
            "\(pad(year, 4))-\(pad(month + 1, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))Z"
        return Timestamp(rfc3339: rfc3339)
    }
}

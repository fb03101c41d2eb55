import NIOCore
import SwitchboardCore

/// How long a connection waits before it looks at its token's expiry again. A token may name an
/// expiry centuries away, more than NIO's nanosecond `TimeAmount` can hold, so the wait is capped at
/// a day; a timer that fires before the expiry simply waits again.
enum TokenExpiryWait {
    /// The longest single wait.
    static let longestMilliseconds: Int64 = 86_400_000

    /// The wait until `expires`, seen at `now`; nil when the token has expired.
    static func delay(until expires: Timestamp, now: Timestamp) -> TimeAmount? {
        let remaining = expires.millisecondsSinceEpoch - now.millisecondsSinceEpoch
        guard remaining > 0 else { return nil }
        return .milliseconds(min(remaining, longestMilliseconds))
    }
}

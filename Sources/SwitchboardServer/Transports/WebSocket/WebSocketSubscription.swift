import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTPTypes
import Prometheus
import SwitchboardCore
import SwitchboardEngine
import SwitchboardStore

/// One channel a WebSocket connection follows: which subscribe made it, the pending reply, and how far
/// it got on its way from the cursor to live (`ChannelCatchUp`).
struct WebSocketSubscription {
    /// Which subscribe command made it (the connection counts them).
    let generation: Int
    /// Where it is between the log and the live stream.
    var catchUp: ChannelCatchUp
    /// The pending `subscribed` reply (its `ref`), sent with the first page; nil once sent.
    var pendingReply: PendingSubscribeReply?
    /// The namespace's flow-control limits.
    let policy: NamespacePolicy
    /// Log reads that failed in a row since the last that succeeded.
    var failedReads = 0

    /// Most failed reads in a row an established subscription waits out before it ends with
    /// `unavailable`: about a minute of backoff, longer than a database restart or fail-over.
    static let maximumFailedReads = 12

    /// The wait before the next read after `failedReads` failures: 100 ms doubling, at most 8 s.
    static func retryDelay(afterFailures failures: Int) -> TimeAmount {
        .milliseconds(min(8000, 100 << Int64(min(max(failures - 1, 0), 7))))
    }
}

/// What the `subscribed` reply needs once the head is known.
struct PendingSubscribeReply {
    let ref: JSONValue?
    let since: Int64?
}

import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTPTypes
import Prometheus
import SwitchboardCore
import SwitchboardEngine
import SwitchboardStore

/// One channel a WebSocket connection follows: how far it got, and whether it is still reading
/// missed events from the log (then live events only raise `liveHighWater`, to be read from the log).
struct WebSocketSubscription {
    /// The last offset written to the client.
    var delivered: Int64
    /// Reading from the log rather than taking live events.
    var isCatchingUp: Bool
    /// The highest live offset seen while catching up.
    var liveHighWater: Int64 = 0
    /// A read from the log is in flight.
    var isReading = false
    /// The pending `subscribed` reply (its `ref`), sent with the first page; nil once sent.
    var pendingReply: PendingSubscribeReply?
    /// The namespace's flow-control limits.
    let policy: NamespacePolicy
}

/// What the `subscribed` reply needs once the head is known.
struct PendingSubscribeReply {
    let ref: JSONValue?
    let since: Int64?
}

/// Counts what was written and what the kernel has taken, to bound unsent events and bytes.
struct OutboundAccount {
    /// Bytes ever written to the channel.
    var bytesWritten = 0
    /// Per flushed batch: bytes written up to its end, and its event count.
    private var batches: [(end: Int, events: Int)] = []
    private var head = 0
    /// Events written in the current batch.
    var eventsInBatch = 0

    /// Closes the current batch and, given the bytes still buffered, returns the unsent event count.
    mutating func flushed(buffered: Int) -> Int {
        if eventsInBatch > 0 {
            batches.append((bytesWritten, eventsInBatch))
            eventsInBatch = 0
        }
        let sent = bytesWritten - buffered
        while head < batches.count, batches[head].end <= sent { head += 1 }
        if head > 64, head * 2 > batches.count {
            batches.removeFirst(head)
            head = 0
        }
        var pending = 0
        for index in head..<batches.count { pending += batches[index].events }
        return pending
    }
}

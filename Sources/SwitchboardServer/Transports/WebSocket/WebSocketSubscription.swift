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
    /// Which subscribe command made it (the connection counts them).
    let generation: Int
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

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
}

/// What the `subscribed` reply needs once the head is known.
struct PendingSubscribeReply {
    let ref: JSONValue?
    let since: Int64?
}

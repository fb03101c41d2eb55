public import NIOCore
public import SwitchboardCore

/// A local receiver of live events: a WebSocket connection or an SSE stream.
///
/// The Hub calls both methods on `eventLoop` only, so an implementation may keep its state
/// confined to that loop.
public protocol HubSubscriber: AnyObject, Sendable {
    /// The event loop that owns the subscriber.
    var eventLoop: any EventLoop { get }
    /// Newly committed events of `channel`, in offset order. Write them, but do not flush.
    func deliver(_ events: [EncodedEvent], of channel: ChannelName)
    /// Called once after each batch of deliveries: flush what was written.
    func flushDeliveries()
}

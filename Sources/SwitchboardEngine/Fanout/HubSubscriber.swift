public import NIOCore
public import SwitchboardCore

/// A local receiver of live events: a WebSocket connection or an SSE stream.
///
/// The Hub calls both methods on `eventLoop` only, so an implementation may keep its state
/// confined to that loop.
public protocol HubSubscriber: AnyObject, Sendable {
    /// The event loop that owns the subscriber.
    var eventLoop: any EventLoop { get }
    /// The transport, for the per-transport delivery metrics.
    var transport: DeliveryTransport { get }
    /// Newly committed events of `channel`, in offset order. Write them, but do not flush; return how
    /// many were written (the Hub counts them, once per batch and event loop).
    func deliver(_ batch: EncodedBatch, of channel: ChannelName) -> Int
    /// Called once per event-loop tick after deliveries that wrote something: flush what was written.
    func flushDeliveries()
}

/// How a live subscriber is connected.
public enum DeliveryTransport: Sendable {
    case webSocket
    case serverSentEvents
    /// A WebSocket speaking the Pusher protocol: its events are Pusher frames, encoded once per event
    /// only for channels such connections subscribe to.
    case pusher
}

import NIOCore
import NIOPosix
import SwitchboardCore

/// On a store several nodes share, the `join` and `leave` frames of one channel come from its journal
/// (`$presence:<channel>`), whichever node the change happened on: the relay subscribes to the journal
/// in the Hub while this node has members in the channel, and hands each entry to the registry.
final class PresenceRelay: HubSubscriber {
    let eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any()
    let transport = DeliveryTransport.webSocket
    private let channel: ChannelName
    private let route: @Sendable (_ channel: ChannelName, _ op: String, _ member: String, _ user: String) -> Void

    init(
        channel: ChannelName,
        route: @escaping @Sendable (_ channel: ChannelName, _ op: String, _ member: String, _ user: String) -> Void
    ) {
        self.channel = channel
        self.route = route
    }

    func deliver(_ batch: EncodedBatch, of channel: ChannelName) -> Int {
        for encoded in batch.events {
            let event = encoded.event
            let op: String
            switch event.type.rawValue {
            case "presence.join": op = "join"
            case "presence.leave": op = "leave"
            default: continue
            }
            guard let user = (try? JSONParser.parse(event.data))?["user"]?.stringValue else { continue }
            route(self.channel, op, event.data, user)
        }
        return 0
    }

    func flushDeliveries() {}
}

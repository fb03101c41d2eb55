import NIOCore
import NIOEmbedded
import SwitchboardCore
import SwitchboardEngine

/// A Hub with `subscribers` subscribers of `orders` on one event loop, each keeping the frames it was
/// handed as a WebSocket connection does before its flush (a reference, not a copy).
final class FanoutFixture {
    let hub = Hub(metrics: EngineMetrics())
    let loop = EmbeddedEventLoop()
    private let receivers: [CountingSubscriber]

    init(subscribers: Int) {
        let loop = self.loop
        receivers = (0..<subscribers).map { _ in CountingSubscriber(eventLoop: loop) }
        let channel = (try? ChannelName("orders")) ?? { fatalError("a valid channel name") }()
        for receiver in receivers { hub.subscribe(receiver, to: channel) }
    }

    /// Made on first use, on the thread that runs the benchmark (an embedded loop belongs to its thread).
    final class Lazy {
        private let subscribers: Int
        private var made: FanoutFixture?

        init(subscribers: Int) {
            self.subscribers = subscribers
        }

        var value: FanoutFixture {
            if let made { return made }
            let fixture = FanoutFixture(subscribers: subscribers)
            made = fixture
            return fixture
        }
    }

    /// Events delivered to all subscribers so far.
    var delivered: Int { receivers.reduce(0) { $0 + $1.delivered } }
}

/// `@unchecked Sendable`: touched only on its embedded loop, which runs on the benchmark's thread.
final class CountingSubscriber: HubSubscriber, @unchecked Sendable {
    let eventLoop: any EventLoop
    let transport = DeliveryTransport.webSocket
    private(set) var delivered = 0
    private var pending: ByteBuffer?

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func deliver(_ batch: EncodedBatch, of channel: ChannelName) -> Int {
        pending = batch.joinedWebSocketFrames
        delivered += batch.events.count
        return batch.events.count
    }

    func flushDeliveries() {
        pending = nil
    }
}

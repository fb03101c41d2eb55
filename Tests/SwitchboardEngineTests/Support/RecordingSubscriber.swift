import NIOCore
import SwitchboardCore
import SwitchboardEngine
import Synchronization

/// A `HubSubscriber` that records what the Hub asks of it, in order, and whether each call came on its
/// own event loop.
final class RecordingSubscriber: HubSubscriber {
    /// One call from the Hub.
    enum Call: Equatable, Sendable, CustomStringConvertible {
        case deliver(ChannelName, offsets: [Int64])
        case flush

        var description: String {
            switch self {
            case .deliver(let channel, let offsets): "deliver(\(channel), \(offsets))"
            case .flush: "flush"
            }
        }
    }

    private struct Record {
        var calls: [Call] = []
        var events: [EncodedEvent] = []
        var callsOffLoop = 0
    }

    let eventLoop: any EventLoop
    private let record = Mutex(Record())

    init(on eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    var transport: DeliveryTransport { .webSocket }

    func deliver(_ batch: EncodedBatch, of channel: ChannelName) -> Int {
        let events = batch.events
        let onLoop = eventLoop.inEventLoop
        record.withLock {
            $0.calls.append(.deliver(channel, offsets: events.map(\.offset)))
            $0.events += events
            if !onLoop { $0.callsOffLoop += 1 }
        }
        return events.count
    }

    func flushDeliveries() {
        let onLoop = eventLoop.inEventLoop
        record.withLock {
            $0.calls.append(.flush)
            if !onLoop { $0.callsOffLoop += 1 }
        }
    }

    /// Every call so far.
    var calls: [Call] { record.withLock { $0.calls } }
    /// Every event delivered so far, in delivery order.
    var events: [EncodedEvent] { record.withLock { $0.events } }
    /// How many calls came from outside `eventLoop`.
    var callsOffLoop: Int { record.withLock { $0.callsOffLoop } }
}

/// Events for tests: `offset` in `channel`, with a small payload.
func testEvent(_ channel: String, _ offset: Int64, data: String = #"{"n":1}"#) throws -> Event {
    Event(
        id: EventID(stored: "evt_\(channel)_\(offset)"),
        channel: try ChannelName(channel),
        offset: offset,
        type: try EventType("test.event"),
        time: Timestamp(millisecondsSinceEpoch: 1_800_000_000_000 + offset),
        data: data
    )
}

/// The address of a buffer's readable bytes, to tell whether two buffers share storage.
func storageAddress(_ buffer: ByteBuffer) -> Int {
    buffer.withUnsafeReadableBytes { Int(bitPattern: $0.baseAddress) }
}

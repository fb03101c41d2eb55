/// Counts what a connection wrote and what the kernel has taken, to bound its unsent events and bytes.
///
/// Asking the channel how much is still buffered costs a little on every flush of every subscriber, so
/// the account asks only when it matters: when it has not asked for a while, or when the events it
/// cannot vouch for could be near the limit.
struct OutboundAccount {
    /// Bytes ever written to the channel.
    var bytesWritten = 0
    /// Events written in the current batch.
    var eventsInBatch = 0
    /// Per flushed batch not yet known to be sent: bytes written up to its end, and its event count.
    private var batches: [(end: Int, events: Int)] = []
    private var head = 0
    /// Events in `batches[head...]`.
    private(set) var unconfirmedEvents = 0

    /// How many flushed batches may pile up before the account asks the channel again.
    static let measureEvery = 32

    /// Closes the current batch (call after a flush).
    mutating func closeBatch() {
        guard eventsInBatch > 0 else { return }
        batches.append((bytesWritten, eventsInBatch))
        unconfirmedEvents += eventsInBatch
        eventsInBatch = 0
    }

    /// Whether the account should ask the channel how much is buffered now, given the event limit.
    func shouldMeasure(eventLimit: Int) -> Bool {
        batches.count - head >= Self.measureEvery || unconfirmedEvents * 2 > eventLimit
    }

    /// Given the bytes the channel still buffers, forgets sent batches and returns the unsent events.
    mutating func confirm(buffered: Int) -> Int {
        let sent = bytesWritten - buffered
        while head < batches.count, batches[head].end <= sent {
            unconfirmedEvents -= batches[head].events
            head += 1
        }
        if head == batches.count {
            batches.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 64, head * 2 > batches.count {
            batches.removeFirst(head)
            head = 0
        }
        return unconfirmedEvents
    }
}

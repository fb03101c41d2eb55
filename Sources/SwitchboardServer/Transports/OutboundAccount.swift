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

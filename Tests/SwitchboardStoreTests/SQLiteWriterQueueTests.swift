import SwitchboardCore
import SwitchboardStore
import SwitchboardTestSupport
import Testing

/// The appends waiting for the SQLite writer are bounded in bytes.
/// A test that waits for an event the server never sends fails at the limit instead of hanging.
@Suite("SQLite writer queue", .timeLimit(.minutes(5)))
struct SQLiteWriterQueueTests {
    @Test(
        "Past the queue's byte bound an append is refused at once with unavailable and Retry-After; nothing of it is stored"
    )
    func boundedQueue() async throws {
        var options = StoreOptions()
        options.maximumQueuedAppendBytes = 8 * 1024
        try await StoreFixture.with(.sqlite, options: options) { store in
            let release = try await store.holdWriter()
            let data = "\"" + String(repeating: "q", count: 1000) + "\""
            let draft = try EventDraft.test("queued", data: data)
            // About 1.25 KiB each while the writer is held: six fit in 8 KiB, the other fourteen do not,
            // whatever order they arrive in.
            let (refusals, refusal) = AsyncStream<SwitchboardError>.makeStream()
            let attempts = Task {
                await withTaskGroup(of: Int.self) { group in
                    for _ in 0..<20 {
                        group.addTask {
                            do {
                                return try await store.log.append([draft]).appended.count
                            } catch let error as SwitchboardError {
                                refusal.yield(error)
                                return 0
                            } catch {
                                return 0
                            }
                        }
                    }
                    return await group.reduce(0, +)
                }
            }
            // The refusals come while the writer is still held.
            var refused: [SwitchboardError] = []
            for await error in refusals {
                refused.append(error)
                if refused.count == 14 { break }
            }
            #expect(refused.count == 14)
            #expect(refused.allSatisfy { $0.code == .unavailable && $0.retryAfterSeconds == 1 })
            release()
            #expect(await attempts.value == 6)
            let stored = try await store.log.read(channel: try ChannelName("queued"), after: 0, limit: 100)
            #expect(stored.events.count == 6)
            // Once the queue drained, appends are accepted again.
            #expect(try await store.log.append([draft]).appended.count == 1)
        }
    }
}

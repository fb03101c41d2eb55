import Foundation
import Logging
import SwitchboardCore
import SwitchboardStore
import Synchronization

/// An embedded store in a fresh folder, its writer running, for the append benchmark; one per process.
final class AppendFixture: Sendable {
    static let shared = AppendFixture()

    private struct Open: Sendable {
        let store: OpenedStore
        let writer: Task<Void, any Error>
        let folder: String
    }

    private let state = Mutex<Open?>(nil)

    /// The open store's log; `open()` must have run.
    var log: any EventLog {
        guard let open = state.withLock({ $0 }) else { fatalError("AppendFixture.open() runs first") }
        return open.store.log
    }

    func open() async throws {
        let folder = NSTemporaryDirectory() + "switchboard-bench-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // `normal`: the count is the same with an fsync per commit, and the run is shorter.
        let configuration = StoreConfiguration(dataDirectory: folder, durability: .normal)
        // A fixed sequence: the same ids, the same row sizes, on every run.
        let counter = FixedSequence()
        let random = RandomBitsGenerator(randomBits: { counter.next() })
        let store = try await SQLiteStorage.openStore(
            configuration: configuration,
            environment: StoreEnvironment(
                now: { Timestamp(millisecondsSinceEpoch: 1_764_000_000_000) },
                random: random,
                onCommit: { _ in }
            ),
            logger: Logger(label: "bench")
        )
        let services = store.services
        let writer = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for service in services { group.addTask { try await service.run() } }
                try await group.waitForAll()
            }
        }
        state.withLock { $0 = Open(store: store, writer: writer, folder: folder) }
    }

    func close() async {
        guard
            let open = state.withLock({ state in
                defer { state = nil }; return state
            })
        else { return }
        open.writer.cancel()
        _ = await open.writer.result
        await open.store.close()
        try? FileManager.default.removeItem(atPath: open.folder)
    }
}

/// Deterministic "random" bits (a Weyl sequence), so that every run stores the same ids.
final class FixedSequence: Sendable {
    private let state = Mutex<UInt64>(0)

    func next() -> UInt64 {
        state.withLock { value in
            value &+= 0x9E37_79B9_7F4A_7C15
            return value
        }
    }
}

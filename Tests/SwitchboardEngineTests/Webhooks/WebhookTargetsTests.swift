import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import SwitchboardEngine

/// Where webhook targets are looked up: name lookups that hang must not take the shared thread pool,
/// which the store's reads run on.
@Suite("Webhook targets")
struct WebhookTargetsTests {
    /// A lookup that blocks its thread until released, as getaddrinfo does while DNS does not answer.
    final class HangingLookup: Sendable {
        private let released = ConditionLock(value: false)
        let started = NIOLockedValueBox(0)

        func callAsFunction(_ host: String, _ port: Int) throws -> SocketAddress {
            started.withLockedValue { $0 += 1 }
            released.lock(whenValue: true)
            released.unlock()
            return try SocketAddress(ipAddress: "203.0.113.7", port: port)
        }

        func release() {
            released.lock()
            released.unlock(withValue: true)
        }
    }

    @Test("Lookups that hang leave the shared thread pool free")
    func hangingLookups() async throws {
        let lookup = HangingLookup()
        let targets = WebhookTargets(allowsPrivate: false, timeout: .seconds(5), connectionsPerHost: 1) {
            try lookup($0, $1)
        }
        let waiting = Task {
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        _ = try? await targets.client(for: try #require(URL(string: "https://h\(index).example/hook")))
                    }
                }
            }
        }
        // Every resolver thread is now held by a lookup that does not return...
        while lookup.started.withLockedValue({ $0 }) < 4 { await Task.yield() }
        // ...and work on the shared pool still runs (with the lookups there, this would wait for ever).
        let answer = try await NIOThreadPool.singleton.runIfActive { 42 }
        #expect(answer == 42)
        lookup.release()
        await waiting.value
        await targets.shutdown()
    }
}

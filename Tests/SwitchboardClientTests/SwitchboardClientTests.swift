import Logging
import NIOConcurrencyHelpers
import SwitchboardClient
import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardTestSupport
import Testing

@Suite("Swift client against a real server")
struct SwitchboardClientTests {
    /// Collects what the client delivers, so the test can wait for a count.
    final class Received: Sendable {
        private let events = NIOLockedValueBox<[Event]>([])
        private let stream: AsyncStream<Int>
        private let continuation: AsyncStream<Int>.Continuation

        init() {
            (stream, continuation) = AsyncStream<Int>.makeStream()
        }

        func add(_ event: Event) {
            let count = events.withLockedValue { events in
                events.append(event)
                return events.count
            }
            continuation.yield(count)
        }

        var all: [Event] { events.withLockedValue { $0 } }

        func wait(for count: Int) async {
            if all.count >= count { return }
            for await seen in stream where seen >= count { return }
        }
    }

    @Test("follow survives a server restart and resumes without losing or repeating events")
    func followAcrossRestart() async throws {
        try await TestServer.with { server in
            let received = Received()
            let client = SwitchboardClient(
                baseURL: server.baseURL,
                credential: server.adminKey,
                reconnectPolicy: ReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(500)),
                logger: Logger(label: "client-test")
            )
            let channel = try ChannelName("orders")
            let follower = Task {
                try await client.follow(channels: [channel], since: [channel: 0]) { received.add($0) }
            }
            let http = TestHTTP(server)
            for n in 1...3 { try await http.publish("orders", data: "\(n)") }
            await received.wait(for: 3)

            try await server.restart()
            let restartedHTTP = TestHTTP(server)
            for n in 4...6 { try await restartedHTTP.publish("orders", data: "\(n)") }
            await received.wait(for: 6)
            follower.cancel()
            _ = try? await follower.value

            #expect(received.all.map(\.offset) == [1, 2, 3, 4, 5, 6])
            #expect(received.all.map(\.data) == ["1", "2", "3", "4", "5", "6"])
        }
    }

    @Test("publish returns the new event's id and offset")
    func publish() async throws {
        try await TestServer.with(configure: { $0.engine.isDevelopmentMode = true }) { server in
            let client = SwitchboardClient(
                baseURL: server.baseURL,
                credential: nil,
                logger: Logger(label: "client-test")
            )
            let first = try await client.publish(
                channel: ChannelName("chat:1"),
                type: EventType("message"),
                data: .string("hi")
            )
            let second = try await client.publish(
                channel: ChannelName("chat:1"),
                type: EventType("message"),
                data: .null
            )
            #expect(first.offset == 1)
            #expect(second.offset == 2)
            #expect(first.id.hasPrefix("evt_"))
        }
    }

    @Test("A forbidden subscription ends follow with an error instead of reconnecting forever")
    func forbiddenFollowFails() async throws {
        try await TestServer.with { server in
            let client = SwitchboardClient(
                baseURL: server.baseURL,
                credential: nil,
                logger: Logger(label: "client-test")
            )
            await #expect(throws: ClientError.self) {
                try await client.follow(channels: [ChannelName("private")]) { _ in }
            }
        }
    }

    @Test("Reconnect delays grow exponentially with jitter and stay under the cap")
    func reconnectPolicy() {
        let policy = ReconnectPolicy(initialDelay: .milliseconds(100), maximumDelay: .seconds(2))
        var generator = RandomBitsGenerator.system
        for attempt in 0..<20 {
            let delay = policy.delay(attempt: attempt, using: &generator)
            let ceiling = min(Duration.milliseconds(100) * (1 << min(attempt, 16)), .seconds(2))
            #expect(delay >= ceiling / 2)
            #expect(delay <= ceiling)
        }
    }
}

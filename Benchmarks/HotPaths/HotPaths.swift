// Allocation counts of the paths every event takes, checked against Thresholds/ by
// scripts/hotpath-counts.sh in the test command, in the manner of swift-nio's allocation-count tests:
// a count is deterministic where wall time on a shared machine is not, and it is what "encode once,
// not once per subscriber" and "no allocation per subscriber" promise.
import Benchmark
import BenchmarkFixtures
import NIOCore
import NIOEmbedded
import SwitchboardCore
import SwitchboardEngine

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.mallocCountTotal],
        warmupIterations: 3,
        maxDuration: .seconds(2),
        maxIterations: 200,
        // A count is exact for the pure paths; the store's runs on SQLite's and NIO's threads, where a
        // wakeup more or less moves it by a few.
        thresholds: [.mallocCountTotal: .init(relative: [.p90: 2.0], absolute: [.p90: 3])]
    )

    Benchmark("Encode an event once (WebSocket frame, SSE data and chunk)") { benchmark in
        let event = Fixtures.event(offset: 1)
        let deflater = FrameDeflater()
        let allocator = ByteBufferAllocator()
        benchmark.startMeasurement()
        blackHole(EncodedEvent(event, allocator: allocator, deflater: deflater))
        benchmark.stopMeasurement()
    }

    for subscribers in [1, 1_000] {
        // One hub for all iterations, as in a server: its per-loop lists have reached their size.
        let fixture = FanoutFixture.Lazy(subscribers: subscribers)
        var offset: Int64 = 0
        Benchmark("Fan one event out to \(subscribers) subscribers") { benchmark in
            let fanout = fixture.value
            offset += 1
            let event = [Fixtures.event(offset: offset)]
            let before = fanout.delivered
            benchmark.startMeasurement()
            fanout.hub.publish(event)
            fanout.loop.run()
            benchmark.stopMeasurement()
            precondition(fanout.delivered == before + subscribers, "every subscriber gets the event")
        }
    }

    Benchmark("Parse a client publish command") { benchmark in
        let bytes = Array(Fixtures.publishCommand.utf8)
        let limits = Limits()
        benchmark.startMeasurement()
        blackHole(try? ClientCommand.decode(bytes, limits: limits))
        benchmark.stopMeasurement()
    }

    Benchmark("Parse an HTTP publish body into a draft") { benchmark in
        let bytes = Array(Fixtures.publishBody.utf8)
        let limits = Limits()
        let channel = try ChannelName("orders")
        benchmark.startMeasurement()
        let body = try JSONParser.parse(bytes)
        blackHole(try EventDraft.parse(body, channel: channel, headerKey: nil, limits: limits))
        benchmark.stopMeasurement()
    }

    Benchmark("Sign a webhook (body and v1 signature)") { benchmark in
        let event = Fixtures.event(offset: 42)
        let key = WebhookSigningKey.hmac(WebhookSecret(key: Array(repeating: 7, count: 32)))
        benchmark.startMeasurement()
        let body = WebhookPayload.body(for: event)
        blackHole(key.sign(id: event.id.rawValue, timestamp: 1_764_000_000, body: body))
        benchmark.stopMeasurement()
    }

    Benchmark(
        "Append a batch of 100 events to SQLite",
        configuration: .init(
            metrics: [.mallocCountTotal],
            warmupIterations: 3,
            maxDuration: .seconds(5),
            maxIterations: 50,
            // A commit's allocations include SQLite's page cache growing as the file does, and the
            // wakeups of the writer's loop; both move it by a few percent between runs.
            thresholds: [.mallocCountTotal: .init(relative: [.p90: 5.0], absolute: [.p90: 50])]
        )
    ) { benchmark in
        let drafts = try Fixtures.drafts(100)
        benchmark.startMeasurement()
        let outcome = try await AppendFixture.shared.log.append(drafts)
        benchmark.stopMeasurement()
        precondition(outcome.appended.count == 100, "the whole batch is stored")
    } setup: {
        try await AppendFixture.shared.open()
    } teardown: {
        await AppendFixture.shared.close()
    }
}

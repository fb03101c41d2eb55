// Switchboard's own JSON parser and writer against the toolchain's (Foundation's JSONSerialization,
// JSONDecoder and JSONEncoder) on the two places JSON is on the hot path: reading a publish body into
// a draft (with its `data` re-serialised as canonical text), and writing the `event` message every
// subscriber receives. Figures and the decision: docs/decisions/0022-own-json-codec.md.
import Benchmark
import BenchmarkFixtures
import Foundation
import SwitchboardCore

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        warmupIterations: 1_000,
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 10_000
    )

    let body = Array(Fixtures.publishBody.utf8)
    let bodyData = Data(Fixtures.publishBody.utf8)
    let limits = Limits()
    let channel = (try? ChannelName("orders")) ?? { fatalError("a valid channel name") }()

    Benchmark("Publish body to draft: Switchboard's JSONParser and writer") { benchmark in
        for _ in benchmark.scaledIterations {
            let value = try JSONParser.parse(body)
            blackHole(try EventDraft.parse(value, channel: channel, headerKey: nil, limits: limits))
        }
    }

    Benchmark("Publish body to draft: JSONSerialization") { benchmark in
        for _ in benchmark.scaledIterations {
            guard let object = try JSONSerialization.jsonObject(with: bodyData) as? [String: Any],
                let type = object["type"] as? String, let data = object["data"]
            else { fatalError("the fixture is a publish body") }
            let text = try JSONSerialization.data(withJSONObject: data, options: [.fragmentsAllowed])
            blackHole(
                try EventDraft(
                    channel: channel,
                    type: EventType(type),
                    data: String(decoding: text, as: UTF8.self),
                    idempotencyKey: nil
                )
            )
        }
    }

    Benchmark("Publish body to draft: JSONDecoder and JSONEncoder") { benchmark in
        let decoder = JSONDecoder()
        let encoder = JSONEncoder()
        for _ in benchmark.scaledIterations {
            let decoded = try decoder.decode(PublishBody.self, from: bodyData)
            let text = try encoder.encode(decoded.data)
            blackHole(
                try EventDraft(
                    channel: channel,
                    type: EventType(decoded.type),
                    data: String(decoding: text, as: UTF8.self),
                    idempotencyKey: nil
                )
            )
        }
    }

    let event = Fixtures.event(offset: 42)
    Benchmark("Event message: Switchboard's writer") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(ServerMessage.event(event))
        }
    }

    // Given the data already decoded (a stored event keeps it as text, so this favours Foundation).
    let decodedData = (try? JSONDecoder().decode(AnyJSON.self, from: Data(event.data.utf8))) ?? .null
    Benchmark("Event message: JSONEncoder (data already decoded)") { benchmark in
        let encoder = JSONEncoder()
        for _ in benchmark.scaledIterations {
            let message = EventMessage(
                op: "event",
                id: event.id.rawValue,
                channel: event.channel.rawValue,
                offset: event.offset,
                type: event.type.rawValue,
                time: event.time.description,
                data: decodedData
            )
            blackHole(String(decoding: try encoder.encode(message), as: UTF8.self))
        }
    }
}

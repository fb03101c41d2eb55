// The raw request rate of the HTTP client webhooks go out on: `concurrency` loops POST `body` to
// `url` for `seconds` and the rate of 2xx answers is printed. bench/webhook_throughput.py compares
// the server's signed, durable deliveries with this, against the same receiver, in the same run.
//
//   http-client-rate URL CONCURRENCY SECONDS BODY_FILE
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

let arguments = CommandLine.arguments
guard arguments.count == 5, let concurrency = Int(arguments[2]), let seconds = Int(arguments[3]),
    let body = FileManager.default.contents(atPath: arguments[4])
else {
    FileHandle.standardError.write(Data("usage: http-client-rate URL CONCURRENCY SECONDS BODY_FILE\n".utf8))
    exit(2)
}
let url = arguments[1]
var pool = HTTPClient.Configuration.ConnectionPool()
pool.concurrentHTTP1ConnectionsPerHostSoftLimit = concurrency
let client = HTTPClient(
    eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton),
    configuration: HTTPClient.Configuration(redirectConfiguration: .disallow, connectionPool: pool)
)
let succeeded = Atomic<Int>(0)
let deadline = ContinuousClock.now + .seconds(seconds)
let started = ContinuousClock.now
await withTaskGroup(of: Void.self) { group in
    for _ in 0..<concurrency {
        group.addTask {
            while ContinuousClock.now < deadline {
                var request = HTTPClientRequest(url: url)
                request.method = .POST
                request.headers.add(name: "content-type", value: "application/json")
                request.body = .bytes(ByteBuffer(bytes: body))
                guard let response = try? await client.execute(request, timeout: .seconds(15)) else { continue }
                do { for try await _ in response.body {} } catch { continue }
                if (200..<300).contains(Int(response.status.code)) { succeeded.add(1, ordering: .relaxed) }
            }
        }
    }
}
let elapsed = ContinuousClock.now - started
let total = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
print(String(format: "%.0f", Double(succeeded.load(ordering: .relaxed)) / total))
try await client.shutdown()

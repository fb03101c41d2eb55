// swift-tools-version: 6.2
// Benchmarks of Switchboard's hot paths, counted in allocations (deterministic, unlike wall time on a
// shared machine), and the tools the load scripts in bench/ use. A separate package, so that the main
// package's build is untouched; `scripts/hotpath-counts.sh` builds it and checks the counts against
// Thresholds/ (see docs/benchmarks.md, "Numbers that cannot regress").
import PackageDescription

/// The main package's identity: SwiftPM names a path dependency after its directory.
let rootIdentity = String(
    (#filePath as String).split(separator: "/").dropLast(2).last ?? "switchboard"
).lowercased()

let swiftSettings: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "switchboard-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        // Only the malloc counters: the runtime interposer (the default trait's other half) is not needed.
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        // The events, bodies and commands both benchmark targets measure.
        .target(
            name: "BenchmarkFixtures",
            dependencies: [.product(name: "SwitchboardCore", package: rootIdentity)],
            path: "Fixtures",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "HotPaths",
            dependencies: [
                "BenchmarkFixtures",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SwitchboardCore", package: rootIdentity),
                .product(name: "SwitchboardStore", package: rootIdentity),
                .product(name: "SwitchboardEngine", package: rootIdentity),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            path: "HotPaths",
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "JSONCodecs",
            dependencies: [
                "BenchmarkFixtures",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SwitchboardCore", package: rootIdentity),
            ],
            path: "JSONCodecs",
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The raw request rate of the HTTP client webhooks go out on (bench/webhook_throughput.py).
        .executableTarget(
            name: "http-client-rate",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tools/HTTPClientRate",
            swiftSettings: swiftSettings
        ),
    ]
)

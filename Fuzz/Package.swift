// swift-tools-version: 6.2
// libFuzzer targets for Switchboard's parsers and its WebSocket frame path. A separate package, so that
// the main package's build is untouched; build it with `scripts/fuzz.sh` (see docs/testing.md, "Fuzzing").
import PackageDescription

/// The main package's identity: SwiftPM names a path dependency after its directory.
let rootIdentity = String(
    (#filePath as String).split(separator: "/").dropLast(2).last ?? "switchboard"
).lowercased()

/// `-parse-as-library`: libFuzzer provides `main`, each target only `LLVMFuzzerTestOneInput`.
let fuzzSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .unsafeFlags(["-parse-as-library"]),
]

/// The targets that need only the pure core.
let coreTargets: [Target] = ["FuzzJSON", "FuzzClientCommand", "FuzzCursor", "FuzzEventDraft", "FuzzInbound"].map {
    .executableTarget(
        name: $0,
        dependencies: [.product(name: "SwitchboardCore", package: rootIdentity)],
        swiftSettings: fuzzSettings
    )
}

let package = Package(
    name: "switchboard-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
    ],
    targets: coreTargets + [
        .executableTarget(
            name: "FuzzWebSocketFrame",
            dependencies: [
                .product(name: "SwitchboardServer", package: rootIdentity),
                .product(name: "SwitchboardCore", package: rootIdentity),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: fuzzSettings
        ),
    ]
)

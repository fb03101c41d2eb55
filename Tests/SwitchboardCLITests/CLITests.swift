import Foundation
import NIOConcurrencyHelpers
import SwitchboardCore
import SwitchboardTestSupport
import Testing

/// Runs the built `switchboard` binary against a real server.
@Suite("switchboard CLI")
struct CLITests {
    /// The `switchboard` built beside this test bundle (so a build in another build folder, such as a
    /// sanitizer's, tests its own binary), else the package's default debug build.
    static var binary: String {
        let bundleFolder = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let beside = bundleFolder.appendingPathComponent("switchboard").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        // Tests/SwitchboardCLITests/CLITests.swift → package root → .build/debug/switchboard
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/switchboard").path
    }

    @Test("publish prints the receipt; tail prints events and keeps going across a server restart")
    func publishAndTail() async throws {
        try await TestServer.with { server in
            let common = ["--url", server.baseURL, "--key", server.adminKey]
            let publish = try RunningCommand(["publish", "orders", "order.created", "--data", #"{"n":1}"#] + common)
            let receipt = await publish.waitForLines(1)
            #expect(await publish.waitForExit() == 0)
            let parsed = try JSONParser.parse(try #require(receipt.first))
            #expect(parsed["offset"] == .int(1))
            #expect(parsed["channel"] == .string("orders"))

            let tail = try RunningCommand(["tail", "orders", "--since", "0"] + common)
            var lines = await tail.waitForLines(1)
            #expect(try JSONParser.parse(try #require(lines.first))["data"] == .object([("n", .int(1))]))

            try await server.restart()
            try await TestHTTP(server).publish("orders", type: "order.created", data: #"{"n":2}"#)
            lines = await tail.waitForLines(2)
            #expect(lines.count == 2)
            #expect(try JSONParser.parse(try #require(lines.last))["offset"] == .int(2))
            await tail.stop()
        }
    }

    @Test("publish with invalid JSON data fails with a message and publishes nothing")
    func publishRejectsBadData() async throws {
        try await TestServer.with { server in
            let publish = try RunningCommand(
                ["publish", "orders", "t", "--data", "{nope", "--url", server.baseURL, "--key", server.adminKey]
            )
            let status = await publish.waitForExit()
            #expect(status != nil && status != 0)
            let history = try await TestHTTP(server).request("GET", "/v1/channels/orders/events").json
            #expect(history["events"] == .array([]))
        }
    }
}

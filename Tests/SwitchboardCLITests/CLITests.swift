import Foundation
import NIOConcurrencyHelpers
import SwitchboardCore
import SwitchboardTestSupport
import Testing

/// Runs the built `switchboard` binary against a real server.
@Suite("switchboard CLI")
struct CLITests {
    static var binary: String {
        // Tests/SwitchboardCLITests/CLITests.swift → package root → .build/debug/switchboard
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/switchboard").path
    }

    /// A running CLI process whose standard output (and, when asked, standard error) is read line by line.
    final class RunningCommand: Sendable {
        let process: Process
        private let lines = NIOLockedValueBox<[String]>([])

        init(_ arguments: [String], capturingStandardError: Bool = false) throws {
            process = Process()
            process.executableURL = URL(fileURLWithPath: CLITests.binary)
            process.arguments = arguments
            // One pipe per stream: Foundation closes each stream's write end after spawning, so one
            // pipe given for both would be closed twice, and the second close can hit a descriptor
            // another thread has just opened.
            let output = Pipe()
            process.standardOutput = output
            Self.collectLines(from: output, into: lines)
            if capturingStandardError {
                let errors = Pipe()
                process.standardError = errors
                Self.collectLines(from: errors, into: lines)
            } else {
                process.standardError = FileHandle.nullDevice
            }
            try process.run()
        }

        private static func collectLines(from pipe: Pipe, into lines: NIOLockedValueBox<[String]>) {
            let partial = NIOLockedValueBox("")
            pipe.fileHandleForReading.readabilityHandler = { handle in
                let text = String(decoding: handle.availableData, as: UTF8.self)
                partial.withLockedValue { buffer in
                    buffer += text
                    while let newline = buffer.firstIndex(of: "\n") {
                        let line = String(buffer[..<newline])
                        buffer.removeSubrange(...newline)
                        lines.withLockedValue { $0.append(line) }
                    }
                }
            }
        }

        /// Waits (polling the collected output, up to `seconds`) until `count` lines arrived.
        func waitForLines(_ count: Int, seconds: Double = 20) async -> [String] {
            let deadline = ContinuousClock.now + .seconds(seconds)
            while ContinuousClock.now < deadline {
                let current = lines.withLockedValue { $0 }
                if current.count >= count { return current }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return lines.withLockedValue { $0 }
        }

        /// Waits (polling, up to `seconds`) for a line containing `text`.
        func waitForLine(containing text: String, seconds: Double = 20) async -> String? {
            let deadline = ContinuousClock.now + .seconds(seconds)
            while ContinuousClock.now < deadline {
                if let line = lines.withLockedValue({ $0.first { $0.contains(text) } }) { return line }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return nil
        }

        func stop() {
            process.terminate()
            process.waitUntilExit()
        }
    }

    @Test("publish prints the receipt; tail prints events and keeps going across a server restart")
    func publishAndTail() async throws {
        try await TestServer.with { server in
            let common = ["--url", server.baseURL, "--key", server.adminKey]
            let publish = try RunningCommand(["publish", "orders", "order.created", "--data", #"{"n":1}"#] + common)
            let receipt = await publish.waitForLines(1)
            publish.process.waitUntilExit()
            #expect(publish.process.terminationStatus == 0)
            let parsed = try JSONParser.parse(try #require(receipt.first))
            #expect(parsed["offset"] == .int(1))
            #expect(parsed["channel"] == .string("orders"))

            let tail = try RunningCommand(["tail", "orders", "--since", "0"] + common)
            defer { tail.stop() }
            var lines = await tail.waitForLines(1)
            #expect(try JSONParser.parse(try #require(lines.first))["data"] == .object([("n", .int(1))]))

            try await server.restart()
            try await TestHTTP(server).publish("orders", type: "order.created", data: #"{"n":2}"#)
            lines = await tail.waitForLines(2)
            #expect(lines.count == 2)
            #expect(try JSONParser.parse(try #require(lines.last))["offset"] == .int(2))
        }
    }

    @Test("publish with invalid JSON data fails with a message and publishes nothing")
    func publishRejectsBadData() async throws {
        try await TestServer.with { server in
            let publish = try RunningCommand(
                ["publish", "orders", "t", "--data", "{nope", "--url", server.baseURL, "--key", server.adminKey]
            )
            publish.process.waitUntilExit()
            #expect(publish.process.terminationStatus != 0)
            let history = try await TestHTTP(server).request("GET", "/v1/channels/orders/events").json
            #expect(history["events"] == .array([]))
        }
    }
}

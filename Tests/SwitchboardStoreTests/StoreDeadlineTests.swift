import SwitchboardStore
import Testing

/// `StoreDeadline`: a call that never answers gives the caller an error instead of holding it, and
/// one that answers gives its own result or error. The deadline's clock is the test's: it passes when
/// the test says so, never with the time.
@Suite("StoreDeadline")
struct StoreDeadlineTests {
    private struct Refused: Error {}

    /// A call that never answers: it waits for a stream nothing writes to, until cancelled.
    private static func neverAnswering() async throws -> Int {
        let (stream, _) = AsyncStream.makeStream(of: Void.self)
        for await _ in stream {}
        throw CancellationError()
    }

    @Test("A call that never answers ends in a StoreError naming it once the deadline passes")
    func neverAnswers() async throws {
        let error = await #expect(throws: StoreError.self) {
            try await StoreDeadline.run("a stuck commit", sleep: { _ in }) { try await Self.neverAnswering() }
        }
        #expect(error?.description.contains("a stuck commit") == true)
    }

    @Test("A call that answers gives its value, or its own error, while the deadline has not passed")
    func answers() async throws {
        let never: @Sendable (Duration) async -> Void = { _ in _ = try? await Self.neverAnswering() }
        let value = try await StoreDeadline.run("a read", sleep: never) { 42 }
        #expect(value == 42)
        await #expect(throws: Refused.self) {
            try await StoreDeadline.run("a read", sleep: never) { () async throws -> Int in throw Refused() }
        }
    }
}

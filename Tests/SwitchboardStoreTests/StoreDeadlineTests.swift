import SwitchboardStore
import Testing

/// `StoreDeadline`: a call that never answers gives the caller an error instead of holding it, and
/// one that answers gives its own result or error.
@Suite("StoreDeadline")
struct StoreDeadlineTests {
    private struct Refused: Error {}

    @Test("A call that never answers ends in a StoreError naming it, and is cancelled")
    func neverAnswers() async throws {
        let error = await #expect(throws: StoreError.self) {
            try await StoreDeadline.run(within: .milliseconds(20), "a stuck commit") {
                try await Task.sleep(for: .seconds(3600))
            }
        }
        #expect(error?.description.contains("a stuck commit") == true)
    }

    @Test("A call that answers gives its value, or its own error")
    func answers() async throws {
        let value = try await StoreDeadline.run(within: .seconds(3600), "a read") { 42 }
        #expect(value == 42)
        await #expect(throws: Refused.self) {
            try await StoreDeadline.run(within: .seconds(3600), "a read") { () async throws -> Int in throw Refused() }
        }
    }
}

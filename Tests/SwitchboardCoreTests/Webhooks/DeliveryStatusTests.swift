import Testing

@testable import SwitchboardCore

@Suite("Delivery statuses")
struct DeliveryStatusTests {
    @Test(
        "Each status parses from its API name",
        arguments: [
            ("pending", DeliveryStatus.pending), ("succeeded", .succeeded), ("failed", .failed), ("dead", .dead),
        ]
    )
    func parses(text: String, status: DeliveryStatus) throws {
        #expect(try DeliveryStatus(parsing: text) == status)
        #expect(status.rawValue == text)
    }

    @Test("There are exactly four statuses")
    func listsEveryStatus() {
        #expect(DeliveryStatus.allCases == [.pending, .succeeded, .failed, .dead])
    }

    @Test(
        "Any other text is refused as bad_request",
        arguments: ["", "Pending", "DEAD", "success", "failing", " dead", "dead ", "retrying"]
    )
    func refusesOtherText(text: String) {
        let error = #expect(throws: SwitchboardError.self) { try DeliveryStatus(parsing: text) }
        #expect(error?.code == .badRequest)
    }
}

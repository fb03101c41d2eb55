import Testing

@testable import SwitchboardCore

@Suite("Limits")
struct LimitsTests {
    @Test("Defaults follow the protocol: 64 KiB of data, 1000 events a batch, waits of up to 60 s")
    func defaults() {
        let limits = Limits()
        #expect(limits.maximumDataBytes == 64 * 1024)
        #expect(limits.maximumBatchSize == 1000)
        #expect(limits.maximumWaitSeconds == 60)
        #expect(limits.maximumHistoryPage >= 1)
        #expect(limits.maximumRequestBytes >= limits.maximumDataBytes)
    }
}

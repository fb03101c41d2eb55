import SwitchboardCore
import SwitchboardTestSupport
import Testing

@testable import SwitchboardServer

@Suite("Unknown API key cache")
struct UnknownKeyCacheTests {
    private let start = ManualClock().now

    @Test("A digest found unknown is remembered for its lifetime, then read again")
    func lifetime() {
        var cache = UnknownKeyCache(capacity: 10, lifetime: .seconds(10))
        let digest = APIKeyDigest(of: "sbk_wrong")
        #expect(!cache.contains(digest, at: start))
        cache.insert(digest, at: start)
        #expect(cache.contains(digest, at: start + .seconds(9)))
        #expect(!cache.contains(digest, at: start + .seconds(10)))
        #expect(!cache.contains(APIKeyDigest(of: "sbk_other"), at: start))
        cache.remove(digest)
        #expect(!cache.contains(digest, at: start))
    }

    @Test("A flood of distinct keys never holds more than the capacity; expired entries go first")
    func bounded() {
        var cache = UnknownKeyCache(capacity: 100, lifetime: .seconds(10))
        for index in 0..<50 { cache.insert(APIKeyDigest(of: "old-\(index)"), at: start) }
        let later = start + .seconds(11)
        for index in 0..<50 { cache.insert(APIKeyDigest(of: "new-\(index)"), at: later) }
        // Full: the next insert drops the 50 expired entries and keeps the 50 live ones.
        cache.insert(APIKeyDigest(of: "one-more"), at: later)
        #expect(cache.count == 51)
        #expect(cache.contains(APIKeyDigest(of: "new-7"), at: later))
        for index in 0..<10_000 { cache.insert(APIKeyDigest(of: "flood-\(index)"), at: later) }
        #expect(cache.count <= 100)
    }
}

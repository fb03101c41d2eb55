import SwitchboardCore

/// Digests of API keys recently found unknown, so that a client repeating a wrong or revoked key is
/// refused without a read of the key table each time. Bounded: it holds at most `capacity` digests,
/// each for `lifetime`; when full, expired entries go first, then everything (a flood of random keys
/// costs one read each, as it would without the cache, and never more memory).
struct UnknownKeyCache {
    let capacity: Int
    let lifetime: Duration
    private var seen: [APIKeyDigest: ContinuousClock.Instant] = [:]

    init(capacity: Int = 10_000, lifetime: Duration = .seconds(10)) {
        self.capacity = max(1, capacity)
        self.lifetime = lifetime
    }

    /// How many digests are held.
    var count: Int { seen.count }

    /// Whether `digest` was found unknown within the lifetime before `now`.
    func contains(_ digest: APIKeyDigest, at now: ContinuousClock.Instant) -> Bool {
        guard let at = seen[digest] else { return false }
        return now - at < lifetime
    }

    /// Remembers that `digest` is unknown at `now`.
    mutating func insert(_ digest: APIKeyDigest, at now: ContinuousClock.Instant) {
        if seen.count >= capacity, seen[digest] == nil {
            seen = seen.filter { now - $0.value < lifetime }
            if seen.count >= capacity { seen.removeAll(keepingCapacity: true) }
        }
        seen[digest] = now
    }

    /// Forgets `digest` (a key with it was just created).
    mutating func remove(_ digest: APIKeyDigest) {
        seen.removeValue(forKey: digest)
    }
}

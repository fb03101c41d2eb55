import SwitchboardCore
import SwitchboardStore

/// Who may start an attempt now: the global concurrency limit, each endpoint's concurrency (one for
/// ordered endpoints) and rate limit (a token bucket per endpoint). Plain value; the worker keeps it
/// under a lock.
struct DeliveryCapacity {
    let concurrency: Int
    let perEndpointConcurrency: Int
    private(set) var inFlight = 0
    private var inFlightByEndpoint: [String: Int] = [:]
    private var buckets: [String: TokenBucket] = [:]

    init(concurrency: Int, perEndpointConcurrency: Int) {
        self.concurrency = max(1, concurrency)
        self.perEndpointConcurrency = max(1, perEndpointConcurrency)
    }

    var free: Int { concurrency - inFlight }

    /// Ordered endpoints, and `switchboard listen` sessions (which forward one at a time), take one.
    private func limit(of endpoint: Endpoint) -> Int {
        endpoint.settings.isOrdered || endpoint.settings.isRelay ? 1 : perEndpointConcurrency
    }

    /// Takes a slot (and a rate token) for an attempt to `endpoint` if one is free.
    mutating func start(_ endpoint: Endpoint, at now: ContinuousClock.Instant) -> Bool {
        guard inFlight < concurrency, inFlightByEndpoint[endpoint.id, default: 0] < limit(of: endpoint) else {
            return false
        }
        if let rate = endpoint.settings.rateLimit {
            var bucket = refilled(endpoint.id, rate: rate, at: now)
            let taken = bucket.take(at: now)
            buckets[endpoint.id] = bucket
            guard taken else { return false }
        }
        inFlight += 1
        inFlightByEndpoint[endpoint.id, default: 0] += 1
        return true
    }

    /// Gives a slot back.
    mutating func finish(_ endpointID: String) {
        inFlight -= 1
        let remaining = inFlightByEndpoint[endpointID, default: 1] - 1
        inFlightByEndpoint[endpointID] = remaining > 0 ? remaining : nil
    }

    /// Endpoints that cannot start an attempt now, and when the first rate-limited one can again.
    func blocked(_ endpoints: [String: Endpoint], at now: ContinuousClock.Instant) -> (
        ids: Set<String>, nextToken: Duration?
    ) {
        var ids: Set<String> = []
        var nextToken: Duration?
        for (id, count) in inFlightByEndpoint {
            if let endpoint = endpoints[id], count >= limit(of: endpoint) { ids.insert(id) }
        }
        for (id, endpoint) in endpoints {
            guard let rate = endpoint.settings.rateLimit else { continue }
            let bucket = refilled(id, rate: rate, at: now)
            if bucket.tokens < 1 {
                ids.insert(id)
                let wait = bucket.wait()
                nextToken = min(nextToken ?? wait, wait)
            }
        }
        return (ids, nextToken)
    }

    private func refilled(_ id: String, rate: Int, at now: ContinuousClock.Instant) -> TokenBucket {
        guard var bucket = buckets[id] else {
            return TokenBucket(rate: Double(rate), burst: Double(max(1, rate)), now: now)
        }
        bucket.refill(at: now)
        return bucket
    }
}

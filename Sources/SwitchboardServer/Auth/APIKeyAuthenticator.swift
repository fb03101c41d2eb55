import HTTPTypes
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Prometheus
public import SwitchboardCore
public import SwitchboardEngine
public import SwitchboardStore

/// Resolves a presented API key (`Authorization: Bearer sbk_…` or `?token=`) into a principal.
///
/// Keys are looked up by digest and compared in constant time; a found key is cached for a few
/// seconds so that publishing does not read the key table on every request (a revoked key stops
/// working within that time, or at once when revoked through this server). A key found unknown is
/// remembered for a few seconds too (`UnknownKeyCache`), so a client repeating a wrong key costs no
/// read. `lastUsed` is written at most once a minute per key.
public final class APIKeyAuthenticator: Sendable {
    private struct Cached {
        let record: APIKeyRecord
        let fetchedAt: ContinuousClock.Instant
        var touchedAt: ContinuousClock.Instant?
    }

    private let store: any AdminStore
    private let cache = NIOLockedValueBox([APIKeyDigest: Cached]())
    private let unknown = NIOLockedValueBox(UnknownKeyCache())
    private let ambient: Ambient

    /// Authenticates against `store`, timed by `ambient`'s clocks.
    public init(store: any AdminStore, ambient: Ambient) {
        self.store = store
        self.ambient = ambient
    }

    /// The principal for `credential`, an `sbk_` key; unknown or revoked key → `unauthorized`.
    public func principal(for credential: String) async throws(SwitchboardError) -> Principal {
        let digest = APIKeyDigest(of: credential)
        let clock = ambient.monotonicClock()
        if let principal = cachedPrincipal(digest: digest, at: clock) { return principal }
        if unknown.withLockedValue({ $0.contains(digest, at: clock) }) {
            throw SwitchboardError(.unauthorized, "unknown or revoked API key")
        }
        let record: APIKeyRecord?
        do {
            record = try await store.findAPIKey(digest: digest)
        } catch {
            throw SwitchboardError(.unavailable, "the key store is unavailable")
        }
        guard let record, record.digest.constantTimeEquals(digest) else {
            cache.withLockedValue { _ = $0.removeValue(forKey: digest) }
            unknown.withLockedValue { $0.insert(digest, at: clock) }
            throw SwitchboardError(.unauthorized, "unknown or revoked API key")
        }
        let shouldTouch = cache.withLockedValue { cache -> Bool in
            let previous = cache[digest]?.touchedAt
            let touch = previous.map { clock - $0 > .seconds(60) } ?? true
            cache[digest] = Cached(record: record, fetchedAt: clock, touchedAt: touch ? clock : previous)
            return touch
        }
        if shouldTouch { try? await store.touchAPIKey(id: record.id, at: ambient.wallClock()) }
        return Principal(scopes: record.scopes, keyID: record.id)
    }

    /// The principal for `credential` when the key was looked up within the last few seconds; nil when
    /// it must be looked up (with `principal(for:)`).
    public func cachedPrincipal(for credential: String) -> Principal? {
        cachedPrincipal(digest: APIKeyDigest(of: credential), at: ambient.monotonicClock())
    }

    private func cachedPrincipal(digest: APIKeyDigest, at clock: ContinuousClock.Instant) -> Principal? {
        guard let cached = cache.withLockedValue({ $0[digest] }), clock - cached.fetchedAt < .seconds(5),
            cached.record.digest.constantTimeEquals(digest)
        else { return nil }
        return Principal(scopes: cached.record.scopes, keyID: cached.record.id)
    }

    /// Drops a revoked key from the cache, so that it is refused from the next request on.
    public func forget(keyID: String) {
        cache.withLockedValue { cache in
            cache = cache.filter { $0.value.record.id != keyID }
        }
    }

    /// Forgets that `digest` was unknown: a key with it was just created.
    public func created(_ digest: APIKeyDigest) {
        unknown.withLockedValue { $0.remove(digest) }
    }

    /// The bearer credential in an `Authorization` header value, if any.
    public static func bearer(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1]).trimmingSpaces
    }
}

public import SwitchboardCore

/// What revoking an API key did.
public enum APIKeyDeletion: Hashable, Sendable {
    /// The key was revoked.
    case deleted
    /// No key has that id.
    case notFound
    /// The key is the last admin key and was kept.
    case lastAdminKey
}

/// Administrative records: API keys, webhook endpoints and inbound sources.
///
/// Keys are stored only as digests; lookups are by digest.
public protocol AdminStore: Sendable {
    /// Stores a new key record.
    func insertAPIKey(_ record: APIKeyRecord) async throws
    /// The key whose digest is `digest`, if any and not revoked.
    func findAPIKey(digest: APIKeyDigest) async throws -> APIKeyRecord?
    /// All keys, oldest first.
    func listAPIKeys() async throws -> [APIKeyRecord]
    /// Records that a key was used at `time`.
    func touchAPIKey(id: String, at time: Timestamp) async throws
    /// Revokes a key, unless it is the last key with the `admin` scope; checked and done as one step,
    /// so that two revocations at once can never leave the server without an admin key.
    func deleteAPIKey(id: String) async throws -> APIKeyDeletion

    /// Stores a new endpoint.
    func insertEndpoint(_ endpoint: Endpoint) async throws
    /// The endpoint `id`, if any.
    func endpoint(id: String) async throws -> Endpoint?
    /// All endpoints, oldest first.
    func listEndpoints() async throws -> [Endpoint]
    /// Replaces a stored endpoint's settings and keys (matched by id), leaving its enabled state and
    /// health as they are; returns whether it existed.
    func updateEndpoint(_ endpoint: Endpoint) async throws -> Bool
    /// Enables an endpoint (clearing its failing streak) or disables it; returns whether it existed.
    func setEndpointEnabled(id: String, enabled: Bool, reason: String?, at time: Timestamp) async throws -> Bool
    /// Removes an endpoint and its deliveries; returns whether it existed.
    func deleteEndpoint(id: String) async throws -> Bool

    /// Stores a new source; false when one with its name exists.
    func insertSource(_ source: InboundSource, at time: Timestamp) async throws -> Bool
    /// All stored sources, by name.
    func listSources() async throws -> [InboundSource]
    /// Replaces a stored source (matched by name); returns whether it existed.
    func updateSource(_ source: InboundSource, at time: Timestamp) async throws -> Bool
    /// Removes a source; returns whether it existed.
    func deleteSource(name: String) async throws -> Bool
}

/// A stored API key: never the key itself.
public struct APIKeyRecord: Hashable, Sendable {
    /// A new random key and its record (`key_…` id, digest, no use yet). The key is shown once and
    /// never stored.
    public static func make(
        name: String,
        scopes: [Scope],
        created: Timestamp,
        using generator: inout some RandomNumberGenerator
    ) -> (key: String, record: APIKeyRecord) {
        let key = APIKeyGenerator.makeKey(using: &generator)
        let record = APIKeyRecord(
            id: "key_" + RandomToken.base62(count: 16, using: &generator),
            name: name,
            digest: APIKeyDigest(of: key),
            scopes: scopes,
            created: created,
            lastUsed: nil
        )
        return (key, record)
    }

    /// `key_…`.
    public let id: String
    /// A label for people.
    public let name: String
    /// SHA-256 of the key.
    public let digest: APIKeyDigest
    /// What it may do.
    public let scopes: [Scope]
    /// When it was made.
    public let created: Timestamp
    /// When it was last presented.
    public let lastUsed: Timestamp?

    /// Makes a record.
    public init(
        id: String,
        name: String,
        digest: APIKeyDigest,
        scopes: [Scope],
        created: Timestamp,
        lastUsed: Timestamp?
    ) {
        self.id = id
        self.name = name
        self.digest = digest
        self.scopes = scopes
        self.created = created
        self.lastUsed = lastUsed
    }
}

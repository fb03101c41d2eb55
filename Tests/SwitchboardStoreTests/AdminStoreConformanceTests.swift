import SwitchboardCore
import SwitchboardStore
import SwitchboardTestSupport
import Testing

/// API keys in the `AdminStore`; run against every backend like the log's conformance suite.
@Suite("AdminStore API keys")
struct AdminStoreConformanceTests {
    private static let created = Timestamp(millisecondsSinceEpoch: 1_800_000_000_000)

    private func record(
        _ id: String,
        key: String,
        scopes: [Scope],
        createdAfterSeconds seconds: Int64 = 0
    ) -> APIKeyRecord {
        APIKeyRecord(
            id: id,
            name: "key \(id)",
            digest: APIKeyDigest(of: key),
            scopes: scopes,
            created: Timestamp(millisecondsSinceEpoch: Self.created.millisecondsSinceEpoch + seconds * 1000),
            lastUsed: nil
        )
    }

    @Test(
        "A stored key is found by the digest of the key, with its name, scopes and creation time",
        arguments: StoreBackend.underTest,
        [
            [Scope.admin],
            [.publish(try NamePattern("orders")), .subscribe(try NamePattern("chat:*"))],
            [.subscribe(try NamePattern("*"))],
        ]
    )
    func findByDigest(backend: StoreBackend, scopes: [Scope]) async throws {
        try await StoreFixture.with(backend) { store in
            let stored = record("key_1", key: "sbk_secret-one", scopes: scopes)
            try await store.adminStore.insertAPIKey(stored)
            #expect(try await store.adminStore.findAPIKey(digest: APIKeyDigest(of: "sbk_secret-one")) == stored)
        }
    }

    @Test("An unknown digest finds nothing", arguments: StoreBackend.underTest)
    func unknownDigest(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            try await store.adminStore.insertAPIKey(record("key_1", key: "sbk_secret-one", scopes: [.admin]))
            #expect(try await store.adminStore.findAPIKey(digest: APIKeyDigest(of: "sbk_secret-two")) == nil)
        }
    }

    @Test("Keys are listed oldest first", arguments: StoreBackend.underTest)
    func listOldestFirst(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            let newest = record("key_a", key: "a", scopes: [.admin], createdAfterSeconds: 20)
            let oldest = record("key_b", key: "b", scopes: [.admin], createdAfterSeconds: 0)
            let middle = record("key_c", key: "c", scopes: [.admin], createdAfterSeconds: 10)
            for key in [newest, oldest, middle] {
                try await store.adminStore.insertAPIKey(key)
            }
            #expect(try await store.adminStore.listAPIKeys() == [oldest, middle, newest])
        }
    }

    @Test("Touching a key records when it was last used, and only for that key", arguments: StoreBackend.underTest)
    func touchRecordsLastUse(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            try await store.adminStore.insertAPIKey(record("key_1", key: "one", scopes: [.admin]))
            try await store.adminStore.insertAPIKey(record("key_2", key: "two", scopes: [.admin]))
            let used = Timestamp(millisecondsSinceEpoch: Self.created.millisecondsSinceEpoch + 5_000)
            try await store.adminStore.touchAPIKey(id: "key_1", at: used)
            #expect(try await store.adminStore.findAPIKey(digest: APIKeyDigest(of: "one"))?.lastUsed == used)
            #expect(try await store.adminStore.findAPIKey(digest: APIKeyDigest(of: "two"))?.lastUsed == nil)

            let later = Timestamp(millisecondsSinceEpoch: used.millisecondsSinceEpoch + 60_000)
            try await store.adminStore.touchAPIKey(id: "key_1", at: later)
            #expect(try await store.adminStore.findAPIKey(digest: APIKeyDigest(of: "one"))?.lastUsed == later)
            try await store.adminStore.touchAPIKey(id: "key_missing", at: later)
        }
    }

    @Test(
        "Deleting a key revokes it: it is no longer found or listed, and a second delete reports it gone",
        arguments: StoreBackend.underTest
    )
    func deleteRevokes(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            let kept = record("key_1", key: "one", scopes: [.admin])
            try await store.adminStore.insertAPIKey(kept)
            try await store.adminStore.insertAPIKey(record("key_2", key: "two", scopes: [.admin]))
            #expect(try await store.adminStore.deleteAPIKey(id: "key_2") == .deleted)
            #expect(try await store.adminStore.findAPIKey(digest: APIKeyDigest(of: "two")) == nil)
            #expect(try await store.adminStore.listAPIKeys() == [kept])
            #expect(try await store.adminStore.deleteAPIKey(id: "key_2") == .notFound)
            #expect(try await store.adminStore.deleteAPIKey(id: "key_never") == .notFound)
            #expect(try await store.adminStore.deleteAPIKey(id: "key_1") == .lastAdminKey)
            #expect(try await store.adminStore.listAPIKeys() == [kept])
        }
    }

    @Test(
        "Revoking every admin key at once leaves exactly one, whatever the interleaving",
        arguments: StoreBackend.underTest
    )
    func concurrentRevocationsKeepOneAdmin(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            let ids = (1...8).map { "key_\($0)" }
            for id in ids { try await store.adminStore.insertAPIKey(record(id, key: id, scopes: [.admin])) }
            try await store.adminStore.insertAPIKey(record("key_p", key: "p", scopes: [.publish(try NamePattern("*"))]))
            let outcomes = try await withThrowingTaskGroup(of: APIKeyDeletion.self) { group in
                for id in ids { group.addTask { try await store.adminStore.deleteAPIKey(id: id) } }
                return try await group.reduce(into: [APIKeyDeletion]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .deleted }.count == 7)
            #expect(outcomes.filter { $0 == .lastAdminKey }.count == 1)
            let left = try await store.adminStore.listAPIKeys()
            #expect(left.filter { $0.scopes.contains(.admin) }.count == 1)
            #expect(try await store.adminStore.deleteAPIKey(id: "key_p") == .deleted)
        }
    }

    @Test(
        "A digest identifies one key: storing a second key with the same digest fails",
        arguments: StoreBackend.underTest
    )
    func duplicateDigestRefused(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            let first = record("key_1", key: "same", scopes: [.admin])
            try await store.adminStore.insertAPIKey(first)
            await #expect(throws: (any Error).self) {
                try await store.adminStore.insertAPIKey(record("key_2", key: "same", scopes: [.admin]))
            }
            #expect(try await store.adminStore.listAPIKeys() == [first])
        }
    }

    @Test("Keys survive closing and reopening the store", arguments: StoreBackend.underTest)
    func keysSurviveReopening(backend: StoreBackend) async throws {
        try await StoreLocation.withTemporary(backend) { location in
            let stored = record("key_1", key: "one", scopes: [.publish(try NamePattern("orders*"))])
            try await StoreFixture.open(at: location) { store in
                try await store.adminStore.insertAPIKey(stored)
            }
            let found = try await StoreFixture.open(at: location) { store in
                try await store.adminStore.findAPIKey(digest: APIKeyDigest(of: "one"))
            }
            #expect(found == stored)
        }
    }
}

import SwitchboardCore
import SwitchboardStore
import SwitchboardTestSupport
import Testing

/// Webhook endpoints in the `AdminStore`, run against every backend: stored and read back, updated
/// without touching their enabled state, disabled with a reason, removed.
@Suite("AdminStore endpoints conformance")
struct AdminStoreEndpointConformanceTests {
    private func endpoint(_ id: String, url: String, at time: Timestamp) throws -> Endpoint {
        var generator = RandomBitsGenerator.system
        return Endpoint(
            id: id,
            settings: EndpointSettings(
                url: url,
                filter: try EndpointFilter(channels: [NamePattern("orders")], types: []),
                rateLimit: 5,
                isOrdered: true
            ),
            signingKey: .hmac(WebhookSecret.random(using: &generator)),
            created: time,
            updated: time
        )
    }

    @Test("An endpoint reads back as stored, and endpoints list oldest first", arguments: StoreBackend.underTest)
    func storedAndListed(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            let first = try endpoint("ep_1", url: "https://example.com/a", at: store.clock.now)
            store.clock.advance(seconds: 1)
            let second = try endpoint("ep_2", url: "https://example.com/b", at: store.clock.now)
            try await store.adminStore.insertEndpoint(second)
            try await store.adminStore.insertEndpoint(first)
            let read = try #require(try await store.adminStore.endpoint(id: "ep_1"))
            #expect(read.settings.url == "https://example.com/a")
            #expect(read.settings.rateLimit == 5)
            #expect(read.settings.isOrdered)
            #expect(read.isEnabled)
            #expect(read.created == first.created)
            #expect(try await store.adminStore.listEndpoints().map(\.id) == ["ep_1", "ep_2"])
            #expect(try await store.adminStore.endpoint(id: "ep_missing") == nil)
        }
    }

    @Test(
        "An update replaces settings but keeps a disabled endpoint disabled, with its reason",
        arguments: StoreBackend.underTest
    )
    func updateKeepsEnabledState(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            var stored = try endpoint("ep_1", url: "https://example.com/a", at: store.clock.now)
            try await store.adminStore.insertEndpoint(stored)
            #expect(
                try await store.adminStore.setEndpointEnabled(
                    id: "ep_1",
                    enabled: false,
                    reason: "410 Gone",
                    at: store.clock.now
                )
            )
            stored.settings.url = "https://example.com/new"
            #expect(try await store.adminStore.updateEndpoint(stored))
            let read = try #require(try await store.adminStore.endpoint(id: "ep_1"))
            #expect(read.settings.url == "https://example.com/new")
            #expect(!read.isEnabled)
            #expect(read.disabledReason == "410 Gone")
            #expect(
                try await store.adminStore.setEndpointEnabled(
                    id: "ep_1",
                    enabled: true,
                    reason: nil,
                    at: store.clock.now
                )
            )
            #expect(try await store.adminStore.endpoint(id: "ep_1")?.isEnabled == true)
        }
    }

    @Test(
        "Removing an endpoint removes it once; changes to a missing endpoint say so",
        arguments: StoreBackend.underTest
    )
    func removal(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            let stored = try endpoint("ep_1", url: "https://example.com/a", at: store.clock.now)
            try await store.adminStore.insertEndpoint(stored)
            #expect(try await store.adminStore.deleteEndpoint(id: "ep_1"))
            #expect(try await store.adminStore.deleteEndpoint(id: "ep_1") == false)
            #expect(try await store.adminStore.endpoint(id: "ep_1") == nil)
            #expect(try await store.adminStore.updateEndpoint(stored) == false)
            #expect(
                try await store.adminStore.setEndpointEnabled(
                    id: "ep_1",
                    enabled: true,
                    reason: nil,
                    at: store.clock.now
                )
                    == false
            )
        }
    }
}

import SwitchboardCore
import SwitchboardStore
import SwitchboardTestSupport
import Testing

/// Inbound webhook sources in the `AdminStore`, run against every backend: one per name, read back
/// whole, replaced by name, removed once.
@Suite("AdminStore sources conformance")
struct AdminStoreSourceConformanceTests {
    private func source(_ name: String, secret: String = "s3cret", channel: String = "github") throws -> InboundSource {
        InboundSource(
            name: name,
            scheme: .github,
            secrets: [secret],
            channel: try ChannelName(channel),
            maximumBodyBytes: 65_536,
            toleranceSeconds: 120
        )
    }

    @Test("A source reads back whole, one per name, listed by name", arguments: StoreBackend.underTest)
    func storedOncePerName(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            let github = try source("github")
            #expect(
                try await store.adminStore.insertSource(try source("stripe", channel: "stripe"), at: store.clock.now)
            )
            #expect(try await store.adminStore.insertSource(github, at: store.clock.now))
            #expect(
                try await store.adminStore.insertSource(try source("github", secret: "other"), at: store.clock.now)
                    == false
            )
            let listed = try await store.adminStore.listSources()
            #expect(listed.map(\.name) == ["github", "stripe"])
            #expect(listed.first == github)
        }
    }

    @Test(
        "A source is replaced by name and removed once; changes to a missing one say so",
        arguments: StoreBackend.underTest
    )
    func replacedAndRemoved(backend: StoreBackend) async throws {
        try await StoreFixture.with(backend) { store in
            #expect(try await store.adminStore.insertSource(try source("github"), at: store.clock.now))
            let rotated = try source("github", secret: "rotated", channel: "github:prod")
            #expect(try await store.adminStore.updateSource(rotated, at: store.clock.now))
            #expect(try await store.adminStore.listSources() == [rotated])
            #expect(try await store.adminStore.deleteSource(name: "github"))
            #expect(try await store.adminStore.deleteSource(name: "github") == false)
            #expect(try await store.adminStore.updateSource(rotated, at: store.clock.now) == false)
            #expect(try await store.adminStore.listSources().isEmpty)
        }
    }
}

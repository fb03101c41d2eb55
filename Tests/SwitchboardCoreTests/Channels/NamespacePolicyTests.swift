import Testing

@testable import SwitchboardCore

@Suite("Namespace policies")
struct NamespacePolicyTests {
    @Test(
        "By default a namespace is private, refuses client publishing and bounds each connection at 4 MiB or 10,000 events"
    )
    func defaultsFollowProtocol() {
        let policy = NamespacePolicy()
        #expect(!policy.isPublic)
        #expect(!policy.allowsClientPublish)
        #expect(policy.mailboxBytes == 4 * 1024 * 1024)
        #expect(policy.mailboxEvents == 10_000)
    }

    @Test("A channel gets its namespace's policy, or the default when the namespace is not named")
    func resolvesByNamespace() throws {
        let chat = NamespacePolicy(isPublic: true, allowsClientPublish: true)
        let presence = NamespacePolicy(retentionCount: 1)
        let policies = NamespacePolicies(named: ["chat": chat, "presence": presence])
        #expect(policies.policy(for: try ChannelName("chat:1")) == chat)
        #expect(policies.policy(for: try ChannelName("chat")) == chat)
        #expect(policies.policy(for: try ChannelName("$presence:chat:1")) == presence)
        #expect(policies.policy(for: try ChannelName("orders")) == NamespacePolicy())
        #expect(policies.policy(for: try ChannelName("chatter:1")) == NamespacePolicy())
    }
}

import SwitchboardCore
import SwitchboardStore
import SwitchboardTestSupport
import Testing

/// The append rules every backend shares, without a database: offsets, replays, key clashes and
/// all-or-nothing calls.
@Suite("Append plan")
struct AppendPlanTests {
    private let time = Timestamp(millisecondsSinceEpoch: 1_800_000_000_000)

    private func plan(
        _ calls: [[EventDraft]],
        existing: [AppendReceipt] = [],
        heads: [String: Int64] = [:]
    ) throws -> AppendPlan {
        var generator = RandomBitsGenerator.system
        var headsByChannel: [ChannelName: Int64] = [:]
        for (name, head) in heads { headsByChannel[try ChannelName(name)] = head }
        return AppendPlan(
            calls: calls,
            existing: Dictionary(existing.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first }),
            heads: headsByChannel,
            time: time,
            using: &generator
        )
    }

    private func receipts(_ outcome: Result<AppendOutcome, SwitchboardError>) -> [AppendReceipt] {
        (try? outcome.get())?.receipts ?? []
    }

    @Test("Offsets continue each channel's head without gaps, in call order then draft order")
    func offsets() throws {
        let plan = try plan(
            [
                [try .test("orders"), try .test("chat:1")],
                [try .test("orders"), try .test("orders")],
            ],
            heads: ["orders": 41]
        )
        #expect(plan.events.map(\.offset) == [42, 1, 43, 44])
        #expect(plan.events.map(\.channel.rawValue) == ["orders", "chat:1", "orders", "orders"])
        #expect(plan.heads[try ChannelName("orders")] == 44)
        #expect(plan.heads[try ChannelName("chat:1")] == 1)
        #expect(plan.events.allSatisfy { $0.time == time })
        #expect(Set(plan.events.map(\.id)).count == 4)
        #expect(plan.isKeyed == [false, false, false, false])
    }

    @Test("A key already stored is answered with the original receipt, marked replayed, and stores nothing")
    func replayOfStoredKey() throws {
        let key = try EventID(callerChosen: "order-42")
        let original = AppendReceipt(
            id: key,
            channel: try ChannelName("orders"),
            offset: 7,
            time: Timestamp(millisecondsSinceEpoch: 1),
            wasReplayed: true
        )
        let plan = try plan([[try .test("orders", key: "order-42")]], existing: [original], heads: ["orders": 9])
        #expect(plan.events.isEmpty)
        #expect(receipts(plan.outcomes[0]).map(\.offset) == [7])
        #expect(receipts(plan.outcomes[0]).map(\.wasReplayed) == [true])
        #expect(plan.heads[try ChannelName("orders")] == 9)
    }

    @Test("The same key twice in a group stores one event; the second call gets its receipt, replayed")
    func sameKeyInGroup() throws {
        let plan = try plan([
            [try .test("orders", key: "k1")],
            [try .test("orders", key: "k1"), try .test("orders", key: "k1")],
        ])
        #expect(plan.events.count == 1)
        #expect(plan.isKeyed == [true])
        #expect(plan.events.first?.id.rawValue == "k1")
        #expect(receipts(plan.outcomes[0]).map(\.wasReplayed) == [false])
        #expect(receipts(plan.outcomes[1]).map(\.wasReplayed) == [true, true])
        #expect(receipts(plan.outcomes[1]).map(\.offset) == [1, 1])
    }

    @Test("A key of an event on another channel fails that call alone, with nothing of it stored")
    func clashFailsOnlyItsCall() throws {
        let plan = try plan([
            [try .test("orders", key: "k1")],
            [try .test("chat:1"), try .test("chat:1", key: "k1"), try .test("chat:1")],
            [try .test("chat:1")],
        ])
        guard case .failure(let error) = plan.outcomes[1] else {
            Issue.record("the clashing call was accepted")
            return
        }
        #expect(error.code == .conflict)
        #expect(error.index == 1)
        // Nothing of the failed call took an offset: the third call's event is chat:1's first.
        #expect(plan.events.map(\.channel.rawValue) == ["orders", "chat:1"])
        #expect(plan.events.map(\.offset) == [1, 1])
        #expect(receipts(plan.outcomes[2]).map(\.offset) == [1])
    }

    @Test("A key used twice in one call on two channels fails the call; a single draft's error has no index")
    func clashInsideCall() throws {
        let stored = AppendReceipt(
            id: try EventID(callerChosen: "k2"),
            channel: try ChannelName("orders"),
            offset: 1,
            time: time,
            wasReplayed: true
        )
        let plan = try plan(
            [
                [try .test("orders", key: "k1"), try .test("chat:1", key: "k1")],
                [try .test("chat:1", key: "k2")],
            ],
            existing: [stored]
        )
        guard case .failure(let inCall) = plan.outcomes[0], case .failure(let single) = plan.outcomes[1] else {
            Issue.record("a clashing call was accepted: \(plan.outcomes)")
            return
        }
        #expect(inCall.index == 1)
        #expect(single.index == nil)
        #expect(single.code == .conflict)
        #expect(plan.events.isEmpty)
        #expect(plan.heads.values.allSatisfy { $0 == 0 })
    }
}

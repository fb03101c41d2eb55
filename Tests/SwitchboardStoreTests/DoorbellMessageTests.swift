import SwitchboardCore
import SwitchboardStore
import Testing

/// The doorbell's message text: what one node says of its commits, and what the others make of it.
@Suite("Doorbell message")
struct DoorbellMessageTests {
    @Test("Heads survive the round trip, with the ringing node's name")
    func roundTrip() throws {
        let heads = [try ChannelName("orders"): Int64(41), try ChannelName("$presence:room.1"): 7]
        let message = DoorbellMessage(node: "node_a", news: .heads(heads))
        let parsed = try #require(DoorbellMessage(payload: message.payload))
        #expect(parsed == message)
    }

    @Test("A catch-up survives the round trip")
    func catchUp() throws {
        let message = DoorbellMessage(node: "node_b", news: .catchUp)
        #expect(DoorbellMessage(payload: message.payload) == message)
    }

    @Test("Too many channels for one notification become a catch-up, within PostgreSQL's payload limit")
    func overflow() throws {
        var heads: [ChannelName: Int64] = [:]
        for index in 0..<400 { heads[try ChannelName("channel-with-a-long-name-\(index)")] = Int64(index) }
        let payload = DoorbellMessage(node: "node_c", news: .heads(heads)).payload
        #expect(payload.utf8.count < 8000)
        #expect(DoorbellMessage(payload: payload)?.news == .catchUp)
    }

    @Test("A payload that is not ours is ignored; a line that does not parse asks for a catch-up")
    func garbage() throws {
        #expect(DoorbellMessage(payload: "") == nil)
        #expect(DoorbellMessage(payload: "\n1 orders") == nil)
        #expect(DoorbellMessage(payload: "node_d\nx orders")?.news == .catchUp)
        #expect(DoorbellMessage(payload: "node_d\n-3 orders")?.news == .catchUp)
        #expect(DoorbellMessage(payload: "node_d\n3 bad channel")?.news == .catchUp)
        #expect(DoorbellMessage(payload: "node_d\n3")?.news == .catchUp)
        #expect(DoorbellMessage(payload: "node_d\n2 orders\n5 orders")?.news == .heads([try ChannelName("orders"): 5]))
    }
}

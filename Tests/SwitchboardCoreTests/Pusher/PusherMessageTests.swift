import SwitchboardCore
import Testing

/// The server's Pusher messages: `data` is JSON text inside a string, as Pusher's clients read it.
@Suite("Pusher messages")
struct PusherMessageTests {
    private func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }

    @Test("connection_established carries the socket id and activity timeout as JSON text")
    func established() throws {
        let message = try parse(PusherMessage.connectionEstablished(socketID: "12.34", activityTimeoutSeconds: 120))
        #expect(message["event"]?.stringValue == "pusher:connection_established")
        let data = try parse(try #require(message["data"]?.stringValue))
        #expect(data["socket_id"]?.stringValue == "12.34")
        #expect(data["activity_timeout"]?.intValue == 120)
    }

    @Test("An event is its type, channel, data as Pusher text and offset")
    func event() throws {
        let event = Event(
            id: try EventID(callerChosen: "evt_1"),
            channel: try ChannelName("orders"),
            offset: 9,
            type: try EventType("order.created"),
            time: Timestamp(millisecondsSinceEpoch: 0),
            data: #"{"id":7}"#
        )
        let message = try parse(PusherMessage.event(event))
        #expect(message["event"]?.stringValue == "order.created")
        #expect(message["channel"]?.stringValue == "orders")
        #expect(message["data"]?.stringValue == #"{"id":7}"#)
        #expect(message["offset"]?.intValue == 9)
    }

    @Test("Switchboard's presence frames become member_added and member_removed")
    func presence() throws {
        let join = #"{"op":"join","channel":"presence-a","member":{"client":"cl_1","user":"ada","info":{"n":1}}}"#
        let added = try parse(try #require(PusherMessage.presenceChange(fromSwitchboardFrame: join)))
        #expect(added["event"]?.stringValue == "pusher_internal:member_added")
        #expect(added["channel"]?.stringValue == "presence-a")
        #expect(added["data"]?.stringValue == #"{"user_id":"ada","user_info":{"n":1}}"#)
        let leave = #"{"op":"leave","channel":"presence-a","member":{"client":"cl_1","user":"ada","info":null}}"#
        let removed = try parse(try #require(PusherMessage.presenceChange(fromSwitchboardFrame: leave)))
        #expect(removed["event"]?.stringValue == "pusher_internal:member_removed")
        #expect(removed["data"]?.stringValue == #"{"user_id":"ada"}"#)
        #expect(PusherMessage.presenceChange(fromSwitchboardFrame: #"{"op":"presence"}"#) == nil)
        #expect(PusherMessage.presenceChange(fromSwitchboardFrame: "not json") == nil)
    }

    @Test("A presence channel's first answer lists ids, their info and the count")
    func presenceSucceeded() throws {
        let text = PusherMessage.presenceSucceeded(
            channel: try ChannelName("presence-a"),
            members: [("ada", .object([("n", .int(1))])), ("42", nil)]
        )
        let data = try parse(try #require(try parse(text)["data"]?.stringValue))
        #expect(data.jsonText == #"{"presence":{"ids":["ada","42"],"hash":{"ada":{"n":1},"42":null},"count":2}}"#)
    }

    @Test("signin_success and cache_miss are as Pusher's clients read them")
    func signinAndCacheMiss() throws {
        let success = try parse(PusherMessage.signinSuccess(userData: #"{"id":"u-7"}"#))
        #expect(success["event"]?.stringValue == "pusher:signin_success")
        let data = try parse(try #require(success["data"]?.stringValue))
        #expect(data["user_data"]?.stringValue == #"{"id":"u-7"}"#)
        let miss = try parse(PusherMessage.cacheMiss(channel: try ChannelName("cache-a")))
        #expect(miss.jsonText == #"{"event":"pusher:cache_miss","channel":"cache-a"}"#)
    }
}

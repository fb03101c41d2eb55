import SwitchboardCore
import Testing

@testable import SwitchboardServer

/// How the Pusher HTTP API reads its query strings and names.
@Suite("Pusher names and queries")
struct PusherNamesTests {
    @Test("Query pairs keep their order and repeats, percent-decoded, + read as a space")
    func query() throws {
        let pairs = try #require(PusherQuery.pairs("b=2&a=x%2Cy&a=&c&d=one+two"))
        #expect(pairs.map(\.0) == ["b", "a", "a", "c", "d"])
        #expect(pairs.map(\.1) == ["2", "x,y", "", "", "one two"])
        #expect(try #require(PusherQuery.pairs(nil)).isEmpty)
        #expect(try #require(PusherQuery.pairs("")).isEmpty)
    }

    @Test(
        "A malformed escape or bytes that are not UTF-8 refuse the whole query",
        arguments: ["a=%", "a=%2", "a=%zz", "a=%ff"]
    )
    func malformedQuery(query: String) {
        #expect(PusherQuery.pairs(query) == nil)
    }

    @Test("Pusher channels are Switchboard channels of the same name; $ channels and Pusher's @ , ; are refused")
    func channels() throws {
        #expect(try PusherChannel.name("private-orders.1").rawValue == "private-orders.1")
        for refused in ["$system", "room@1", "a,b", "a;b", "", String(repeating: "a", count: 201)] {
            #expect(throws: SwitchboardError.self) { try PusherChannel.name(refused) }
        }
    }

    @Test("Socket ids are digits.digits")
    func socketIDs() {
        #expect(PusherChannel.isSocketID("1234.5678"))
        for refused in ["1234", "1234.", ".5", "12a.4", "1.2.3", String(repeating: "9", count: 21) + ".1"] {
            #expect(!PusherChannel.isSocketID(refused))
        }
    }
}

/// What a Pusher connection reads from a presence subscription, and the close codes it is sent.
@Suite("Pusher connection rules")
struct PusherConnectionRulesTests {
    @Test("A presence member is user_id (a string or an integer) and the optional user_info")
    func presenceMember() throws {
        let ada = try WebSocketConnection.presenceMember(#"{"user_id":"ada","user_info":{"name":"Ada"}}"#)
        #expect(ada.id == "ada" && ada.info?.jsonText == #"{"name":"Ada"}"#)
        let numbered = try WebSocketConnection.presenceMember(#"{"user_id":42}"#)
        #expect(numbered.id == "42" && numbered.info == nil)
    }

    @Test(
        "Bad channel_data is refused",
        arguments: [
            "", "not json", "[]", #"{"user_info":{}}"#, #"{"user_id":""}"#, #"{"user_id":true}"#,
            #"{"user_id":"a","user_info":""# + String(repeating: "x", count: 1100) + #""}"#,
            #"{"user_id":""# + String(repeating: "u", count: 129) + #""}"#,
        ]
    )
    func badPresenceMember(channelData: String) {
        #expect(throws: SwitchboardError.self) { try WebSocketConnection.presenceMember(channelData) }
    }

    @Test("Cache channels are cache-, private-cache- and presence-cache-")
    func cacheChannels() {
        for name in ["cache-prices", "private-cache-prices", "presence-cache-room"] {
            #expect(WebSocketConnection.isCacheChannel(name))
        }
        for name in ["prices", "private-prices", "presence-room", "cached-x", "private-cached"] {
            #expect(!WebSocketConnection.isCacheChannel(name))
        }
    }

    @Test("Close codes tell Pusher clients to come back after a slow read or a rate limit, not after a refusal")
    func closeCodes() {
        #expect(WebSocketConnection.pusherCloseCode(.slowConsumer) == 4200)
        #expect(WebSocketConnection.pusherCloseCode(.rateLimited) == 4100)
        #expect(WebSocketConnection.pusherCloseCode(.unauthorized) == 4009)
        #expect(WebSocketConnection.pusherCloseCode(.restarting) == 1012)
    }
}

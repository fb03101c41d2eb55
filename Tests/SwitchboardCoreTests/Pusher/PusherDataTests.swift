import SwitchboardCore
import Testing

/// A Pusher event's `data` string against a Switchboard event's JSON `data`, both ways.
@Suite("Pusher data")
struct PusherDataTests {
    @Test("JSON text is stored as the value it encodes; any other text as a string")
    func stored() {
        #expect(PusherData.stored(from: #"{"id": 1, "tags": ["a"]}"#) == #"{"id":1,"tags":["a"]}"#)
        #expect(PusherData.stored(from: "12") == "12")
        #expect(PusherData.stored(from: "plain \"text\"") == #""plain \"text\"""#)
        #expect(PusherData.stored(from: "") == #""""#)
    }

    @Test("A stored string goes to Pusher clients as it is, any other value as its JSON text")
    func delivered() {
        #expect(PusherData.delivered(from: #"{"id":1}"#) == #"{"id":1}"#)
        #expect(PusherData.delivered(from: #""plain \"text\"""#) == "plain \"text\"")
        #expect(PusherData.delivered(from: "null") == "null")
    }

    @Test("What a Pusher publisher sends is what a Pusher client parses back")
    func roundTrip() {
        for data in [#"{"a":[1,2,{"b":null}]}"#, "hello", "3.5", "[]", "true"] {
            #expect(PusherData.delivered(from: PusherData.stored(from: data)) == data)
        }
    }
}

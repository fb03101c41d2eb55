import Testing

@testable import SwitchboardCore

@Suite("Event origins")
struct EventOriginTests {
    @Test(
        "Every origin reads back from its stored form",
        arguments: [
            EventOrigin.api(key: "key_1"), .api(key: nil), .client(user: "alice:x"), .client(user: nil),
            .inbound(source: "github"), .server,
        ]
    )
    func roundTrip(origin: EventOrigin) {
        #expect(EventOrigin(storedText: origin.storedText) == origin)
    }

    @Test("Text no version wrote is no origin", arguments: ["", "api", "robot:1", "server:x", "inbound"])
    func unknownText(text: String) {
        #expect(EventOrigin(storedText: text) == nil)
    }

    @Test("The JSON form names the kind and who")
    func json() {
        #expect(EventOrigin.api(key: "key_1").json.jsonText == #"{"kind":"api","key":"key_1"}"#)
        #expect(EventOrigin.client(user: nil).json.jsonText == #"{"kind":"client","user":null}"#)
        #expect(EventOrigin.inbound(source: "stripe").json.jsonText == #"{"kind":"inbound","source":"stripe"}"#)
        #expect(EventOrigin.server.json.jsonText == #"{"kind":"server"}"#)
    }
}

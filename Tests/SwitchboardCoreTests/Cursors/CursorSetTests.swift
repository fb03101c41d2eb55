import Testing

@testable import SwitchboardCore

@Suite("Cursors")
struct CursorSetTests {
    @Test("Several cursors parse in the order given, each the last offset seen")
    func parsesSeveral() throws {
        let set = try CursorSet(parsing: "orders@42,chat:1@7")
        #expect(
            set.cursors == [
                Cursor(channel: try ChannelName("orders"), offset: 42),
                Cursor(channel: try ChannelName("chat:1"), offset: 7),
            ]
        )
        #expect(set.offset(for: try ChannelName("orders")) == 42)
        #expect(set.offset(for: try ChannelName("chat:1")) == 7)
        #expect(set.offset(for: try ChannelName("other")) == nil)
    }

    @Test(
        "A cursor prints back to the text it was parsed from",
        arguments: ["a@1,b:2@7", "orders@0", "$system@3", "user=1:inbox@9223372036854775807", "x@1,y@2,z@3"]
    )
    func roundTrips(text: String) throws {
        #expect(try CursorSet(parsing: text).description == text)
    }

    @Test("Offset 0 means from the beginning of retention")
    func acceptsZero() throws {
        #expect(try CursorSet(parsing: "orders@0").offset(for: try ChannelName("orders")) == 0)
    }

    @Test(
        "Text that is not channel@offset[,channel@offset…] is refused as bad_request",
        arguments: [
            "", "orders", "orders@", "orders@x", "orders@-1", "orders@1.5", "orders@1e3", "orders@ 1", "orders@1,",
            ",orders@1", "orders@1,,chat@2", "orders@99999999999999999999", "orders#1",
        ]
    )
    func refusesMalformedText(text: String) {
        let error = #expect(throws: SwitchboardError.self) { try CursorSet(parsing: text) }
        #expect(error?.code == .badRequest)
    }

    @Test(
        "A cursor naming an invalid channel is refused as invalid_channel",
        arguments: ["@5", "bad name@1", "a@b@1", "café@1", "orders@1;chat@2"]
    )
    func refusesInvalidChannel(text: String) {
        let error = #expect(throws: SwitchboardError.self) { try CursorSet(parsing: text) }
        #expect(error?.code == .invalidChannel)
    }

    @Test("Moving a channel's cursor updates it in place; a new channel is added at the end")
    func setsOffsets() throws {
        var set = try CursorSet(parsing: "orders@42,chat:1@7")
        set.set(try ChannelName("orders"), to: 50)
        set.set(try ChannelName("billing"), to: 3)
        #expect(set.description == "orders@50,chat:1@7,billing@3")
        #expect(set.offset(for: try ChannelName("orders")) == 50)
    }

    @Test("A set built from cursors prints them joined by commas")
    func buildsFromCursors() throws {
        let set = CursorSet([
            Cursor(channel: try ChannelName("a"), offset: 1), Cursor(channel: try ChannelName("b"), offset: 2),
        ])
        #expect(set.description == "a@1,b@2")
        #expect(Cursor(channel: try ChannelName("chat:1"), offset: 7).description == "chat:1@7")
    }
}

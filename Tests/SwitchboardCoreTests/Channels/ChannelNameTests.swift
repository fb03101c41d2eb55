import Testing

@testable import SwitchboardCore

@Suite("Channel names")
struct ChannelNameTests {
    @Test(
        "Names of 1 to 200 characters of A-Z a-z 0-9 _ - . : = are accepted",
        arguments: [
            "orders", "chat:1", "a", "Z", "0", "_", "-", ".", ":", "=", "user=42", "tenant.eu-west_1:room:7",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.:=",
            String(repeating: "x", count: 200),
        ]
    )
    func acceptsValidNames(name: String) throws {
        #expect(try ChannelName(name).rawValue == name)
    }

    @Test("Server-written names carry a leading $", arguments: ["$system", "$presence:chat:1"])
    func acceptsServerWrittenNames(name: String) throws {
        let channel = try ChannelName(name)
        #expect(channel.rawValue == name)
        #expect(channel.isServerWritten)
    }

    @Test(
        "Names outside the grammar are refused as invalid_channel",
        arguments: [
            "", "$", "chat room", " orders", "orders ", "a@b", "a,b", "a/b", "a*", "a#b", "a?b", "a;b", "a+b",
            "a%20b", "a\"b", "a\\b", "tab\t", "line\n", "café", "😀", "a$b", "$$system", "$ system",
            String(repeating: "x", count: 201),
        ]
    )
    func refusesInvalidNames(name: String) {
        let error = #expect(throws: SwitchboardError.self) { try ChannelName(name) }
        #expect(error?.code == .invalidChannel)
    }

    @Test("The error names the refused channel as a quoted, truncated string")
    func errorQuotesName() {
        let name = "bad\"name " + String(repeating: "y", count: 100)
        let error = #expect(throws: SwitchboardError.self) { try ChannelName(name) }
        #expect(error?.detail.contains(#""bad\"name "#) == true)
        #expect((error?.detail.utf8.count ?? 0) < 200)
    }

    @Test(
        "The namespace is the part before the first colon, without a leading $",
        arguments: [
            ("orders", "orders"),
            ("chat:1", "chat"),
            ("chat:room:1", "chat"),
            ("a.b=c:d", "a.b=c"),
            ("$system", "system"),
            ("$presence:chat:1", "presence"),
        ]
    )
    func derivesNamespace(name: String, namespace: String) throws {
        #expect(try ChannelName(name).namespace == namespace)
    }

    @Test("Ordinary channels are not server-written")
    func ordinaryChannelsAreNotServerWritten() throws {
        #expect(try !ChannelName("orders").isServerWritten)
        #expect(try !ChannelName("system").isServerWritten)
    }

    @Test("A name prints as written and sorts by its text")
    func printsAndSorts() throws {
        let names = try ["chat:2", "chat:10", "Orders", "alpha"].map(ChannelName.init)
        #expect(names.map(\.description) == ["chat:2", "chat:10", "Orders", "alpha"])
        #expect(names.sorted().map(\.rawValue) == ["Orders", "alpha", "chat:10", "chat:2"])
    }
}

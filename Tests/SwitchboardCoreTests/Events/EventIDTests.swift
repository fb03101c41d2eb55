import Testing

@testable import SwitchboardCore

@Suite("Event ids")
struct EventIDTests {
    @Test(
        "A caller-chosen id is 1 to 200 printable ASCII characters",
        arguments: [
            "k", "order-42", "7f3c2a9e-1b2d-4c5e-8f90-123456789abc", #"a"b\c{}"#, "~!@#$%^&*()",
            String(repeating: "k", count: 200),
        ]
    )
    func acceptsCallerChosenIDs(id: String) throws {
        #expect(try EventID(callerChosen: id).rawValue == id)
    }

    @Test(
        "Other caller-chosen ids are refused as bad_request",
        arguments: [
            "", " ", "has space", "tab\there", "line\n", "é", "\u{7F}", String(repeating: "k", count: 201),
            "whin_github_0123",
        ]
    )
    func refusesOtherIDs(id: String) {
        let error = #expect(throws: SwitchboardError.self) { try EventID(callerChosen: id) }
        #expect(error?.code == .badRequest)
    }

    @Test("Server ids are evt_ and 22 base-62 characters, fixed by the random source")
    func serverIDs() {
        var generator = SeededGenerator(seed: 1)
        var ids: Set<EventID> = []
        for _ in 0..<1_000 {
            let id = EventID.random(using: &generator)
            #expect(id.rawValue.hasPrefix("evt_"))
            let body = id.rawValue.dropFirst(4)
            #expect(body.utf8.count == 22)
            #expect(body.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
            ids.insert(id)
        }
        #expect(ids.count == 1_000)

        var first = SeededGenerator(seed: 99)
        var second = SeededGenerator(seed: 99)
        #expect(EventID.random(using: &first) == EventID.random(using: &second))
    }

    @Test("Random tokens use every base-62 character about equally often")
    func tokensAreUniform() {
        var generator = SeededGenerator(seed: 42)
        let text = RandomToken.base62(count: 62_000, using: &generator)
        var counts: [Character: Int] = [:]
        for character in text { counts[character, default: 0] += 1 }
        #expect(counts.count == 62)
        // Each character is expected 1,000 times; a modulo bias would push some far off.
        #expect(counts.values.allSatisfy { (850...1150).contains($0) })
    }
}

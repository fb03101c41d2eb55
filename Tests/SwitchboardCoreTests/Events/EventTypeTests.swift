import Testing

@testable import SwitchboardCore

@Suite("Event types")
struct EventTypeTests {
    @Test(
        "Types of 1 to 200 characters of A-Z a-z 0-9 _ - . : \\ are accepted (Laravel's class names too)",
        arguments: [
            "order.created", "a", "message", "user:joined", "X-Y_z.0:9", String(repeating: "t", count: 200),
            #"App\Events\OrderShipped"#, #"\"#,
        ]
    )
    func acceptsValidTypes(type: String) throws {
        #expect(try EventType(type).rawValue == type)
        #expect(try EventType(type).description == type)
    }

    @Test(
        "Types outside the grammar are refused as invalid_type; unlike channels, = is not allowed",
        arguments: [
            "", "a=b", "=", "order created", "a@b", "a,b", "a/b", "order.*", "$system", "é", "a\n",
            String(repeating: "t", count: 201),
        ]
    )
    func refusesInvalidTypes(type: String) {
        let error = #expect(throws: SwitchboardError.self) { try EventType(type) }
        #expect(error?.code == .invalidType)
    }
}

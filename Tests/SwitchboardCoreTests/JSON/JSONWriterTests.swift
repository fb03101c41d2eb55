import Testing

@testable import SwitchboardCore

@Suite("JSON writer")
struct JSONWriterTests {
    @Test("Values are written as compact JSON, object members in order")
    func writesCompactJSON() {
        let value = JSONValue.object([
            ("b", .array([.int(1), .double(2.5), .null, .bool(true), .bool(false)])),
            ("a", .object([("nested", .string("x"))])),
            ("empty", .array([])),
        ])
        #expect(value.jsonText == #"{"b":[1,2.5,null,true,false],"a":{"nested":"x"},"empty":[]}"#)
    }

    @Test(
        "Strings are escaped so that they parse back to the same characters",
        arguments: [
            ("plain", #""plain""#),
            ("quote\"", #""quote\"""#),
            ("back\\slash", #""back\\slash""#),
            ("a/b", #""a/b""#),
            ("\n\r\t", #""\n\r\t""#),
            ("\u{08}\u{0C}", #""\b\f""#),
            ("\u{0}", #""\u0000""#),
            ("\u{1}\u{1F}", #""\u0001\u001f""#),
            ("\u{7F}", "\"\u{7F}\""),
            ("zoë 😀", #""zoë 😀""#),
            ("😀\"", #""😀\"""#),
        ]
    )
    func escapesStrings(string: String, expected: String) throws {
        #expect(JSONWriter.quoted(string) == expected)
        #expect(try JSONParser.parse(expected) == .string(string))
    }

    @Test("Integral doubles are written without a fraction; non-finite ones as null")
    func writesDoubles() {
        #expect(JSONValue.double(3).jsonText == "3")
        #expect(JSONValue.double(-0.0).jsonText == "0")
        #expect(JSONValue.double(0.5).jsonText == "0.5")
        #expect(JSONValue.double(.infinity).jsonText == "null")
        #expect(JSONValue.double(-.infinity).jsonText == "null")
        #expect(JSONValue.double(.nan).jsonText == "null")
    }

    @Test(
        "Compact JSON survives a parse and a write unchanged",
        arguments: [
            "null", "true", "0", "-1", "9223372036854775807", "-9223372036854775808", "0.1", "-2.5", "\"\"",
            #""\"\\\n\u0001""#, "[]", "{}", #"{"a":[1,{"b":null}],"c":"d"}"#, #"[{"":""},[[]],"😀"]"#,
        ]
    )
    func roundTripsCompactText(text: String) throws {
        #expect(try JSONParser.parse(text).jsonText == text)
    }

    @Test(
        "Writing is stable: parsing what was written gives the same value and the same text",
        arguments: [
            " { \"a\" : 1.0 , \"b\" : [ 1e2, 2.50, -0 ] } ",
            #""\u0041\/\uD83D\uDE00""#,
            "[1e-7, 1.7976931348623157e308, 5e-324, 123456789012345678901234567890]",
            "[0.1, 100000000000000000000.0, 1e15, -1e15]",
        ]
    )
    func writingIsStable(text: String) throws {
        let first = try JSONParser.parse(text).jsonText
        let reparsed = try JSONParser.parse(first)
        #expect(reparsed.jsonText == first)
    }

    @Test("A value made in code parses back from its text to the same value")
    func valueRoundTrip() throws {
        let value = JSONValue.object([
            ("id", .string("evt_1")),
            ("control", .string("tab\there\u{0}\u{1B}")),
            ("unicode", .string("é 😀 \u{2028}")),
            ("max", .int(.max)),
            ("min", .int(.min)),
            ("fraction", .double(0.1)),
            ("tiny", .double(.leastNonzeroMagnitude)),
            ("huge", .double(1.7976931348623157e308)),
            ("list", .array([.null, .bool(false), .object([])])),
        ])
        #expect(try JSONParser.parse(value.jsonText) == value)
    }
}

import Testing

@testable import SwitchboardCore

@Suite("JSON parser")
struct JSONParserTests {
    @Test("Every kind of JSON value is parsed, with object members kept in order")
    func parsesEveryKind() throws {
        let value = try JSONParser.parse(
            #"{"z":null,"y":true,"x":false,"w":-12,"v":1.5,"u":"text","t":[1,"two",[]],"s":{}}"#
        )
        #expect(
            value
                == .object([
                    ("z", .null), ("y", .bool(true)), ("x", .bool(false)), ("w", .int(-12)), ("v", .double(1.5)),
                    ("u", .string("text")), ("t", .array([.int(1), .string("two"), .array([])])), ("s", .object([])),
                ])
        )
        #expect(value.memberNames == ["z", "y", "x", "w", "v", "u", "t", "s"])
    }

    @Test("White space around and between tokens is allowed")
    func allowsWhiteSpace() throws {
        let value = try JSONParser.parse(" \t\r\n{ \"a\" :\n[ 1 ,\t2 ] , \"b\" : { } } \n")
        #expect(value == .object([("a", .array([.int(1), .int(2)])), ("b", .object([]))]))
    }

    @Test("A scalar is a complete JSON text")
    func acceptsTopLevelScalars() throws {
        #expect(try JSONParser.parse("null") == .null)
        #expect(try JSONParser.parse(" true ") == .bool(true))
        #expect(try JSONParser.parse("\"s\"") == .string("s"))
        #expect(try JSONParser.parse("7") == .int(7))
    }

    @Test(
        "Numbers follow the JSON grammar; integers that fit in 64 bits stay exact",
        arguments: [
            ("0", JSONValue.int(0)),
            ("-0", .int(0)),
            ("42", .int(42)),
            ("-17", .int(-17)),
            ("9223372036854775807", .int(.max)),
            ("-9223372036854775808", .int(.min)),
            ("9223372036854775808", .double(9_223_372_036_854_775_808)),
            ("1.5", .double(1.5)),
            ("-0.25", .double(-0.25)),
            ("1e3", .double(1000)),
            ("1E+2", .double(100)),
            ("25e-2", .double(0.25)),
            ("1.0", .double(1)),
            ("1e-07", .double(1e-7)),
        ]
    )
    func parsesNumbers(text: String, expected: JSONValue) throws {
        #expect(try JSONParser.parse(text) == expected)
    }

    @Test(
        "Escapes decode to the characters they name",
        arguments: [
            (#""\"""#, "\""),
            (#""\\""#, "\\"),
            (#""\/""#, "/"),
            (#""\b\f\n\r\t""#, "\u{08}\u{0C}\n\r\t"),
            (#""\u00e9\u00E9""#, "éé"),
            (#""\u0000""#, "\u{0}"),
            (#""a\u0041b""#, "aAb"),
            (#""\uD83D\uDE00""#, "😀"),
            (#""\ud83d\ude00 after""#, "😀 after"),
            (#""héllo \n 😀""#, "héllo \n 😀"),
        ]
    )
    func decodesEscapes(text: String, expected: String) throws {
        #expect(try JSONParser.parse(text) == .string(expected))
    }

    @Test("Raw UTF-8 in strings is kept as written")
    func keepsRawUTF8() throws {
        #expect(try JSONParser.parse(#"{"名前":"zoë 😀"}"#) == .object([("名前", .string("zoë 😀"))]))
    }

    @Test(
        "Text that is not strict RFC 8259 JSON is refused",
        arguments: [
            "", "   ", "[", "{", "]", "}", "{\"a\":", "{\"a\"", "[1", "\"abc",
            // Trailing and missing separators.
            "[1,]", "{\"a\":1,}", "[,1]", "{,}", "[1 2]", "{\"a\":1 \"b\":2}", "{\"a\" 1}", "[1,,2]",
            // Names must be double-quoted strings.
            "{a:1}", "{'a':1}", "{1:1}", "{null:1}",
            // Numbers.
            "01", "-", "-a", "1.", ".5", "+1", "1e", "1e+", "1.e3", "0x10", "NaN", "Infinity", "-Infinity", "1e400",
            "- 1",
            // Literals.
            "tru", "nul", "falsy", "True", "NULL", "undefined",
            // Anything after the value.
            "truex", "[1] [2]", "{}x", "1 2", "\"a\"\"b\"", "null,",
            // Strings: bad escapes, raw control characters, single quotes.
            #""\x""#, #""\a""#, #""\u12""#, #""\u12G4""#, #""\U0041""#, "\"\\", "\"a\tb\"", "\"line\nbreak\"",
            "\"\u{0}\"", "'single'",
            // Surrogates must come in high-low pairs.
            #""\uD800""#, #""\uD800x""#, #""\uD800\u0041""#, #""\uD800\uD800""#, #""\uDC00""#, #""\uDFFF\uD800""#,
            #""\uD800\n""#,
            // Comments are not JSON.
            "//c\n1", "/*c*/1", "[1]//c",
        ]
    )
    func refusesInvalidText(text: String) {
        #expect(throws: JSONParser.ParseError.self) { try JSONParser.parse(text) }
    }

    @Test(
        "Bytes that are not valid UTF-8 are refused inside strings",
        arguments: [
            [0x22, 0xFF, 0x22],
            [0x22, 0xC0, 0xAF, 0x22],
            [0x22, 0x80, 0x22],
            [0x22, 0xE2, 0x82, 0x22],
            [0x22, 0xED, 0xA0, 0x80, 0x22],
            [0x22, 0x5C, 0x6E, 0xFF, 0x22],
            [0x22, 0x41, 0x5C, 0x6E, 0xC3, 0x22],
            [0xEF, 0xBB, 0xBF, 0x31],
        ] as [[UInt8]]
    )
    func refusesInvalidUTF8(bytes: [UInt8]) {
        #expect(throws: JSONParser.ParseError.self) { try JSONParser.parse(bytes) }
    }

    @Test("An error says where in the input it was found")
    func errorNamesPosition() {
        let error = #expect(throws: JSONParser.ParseError.self) { try JSONParser.parse("[1,]") }
        #expect(error?.description.contains("at byte 3") == true)
    }

    @Test("Nesting up to the depth limit is accepted")
    func acceptsNestingAtLimit() throws {
        let depth = JSONParser.maximumDepth
        let arrays = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        _ = try JSONParser.parse(arrays)
        let objects = String(repeating: "{\"a\":", count: depth - 1) + "{}" + String(repeating: "}", count: depth - 1)
        _ = try JSONParser.parse(objects)
    }

    @Test("Nesting deeper than the limit is refused")
    func refusesNestingBeyondLimit() {
        let depth = JSONParser.maximumDepth + 1
        let arrays = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(throws: JSONParser.ParseError.self) { try JSONParser.parse(arrays) }
        let objects = String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth)
        #expect(throws: JSONParser.ParseError.self) { try JSONParser.parse(objects) }
    }

    @Test("Hostile nesting is refused without exhausting the stack")
    func refusesHostileNesting() {
        let text = String(repeating: "[", count: 200_000)
        let error = #expect(throws: JSONParser.ParseError.self) { try JSONParser.parse(text) }
        #expect(error?.description.contains("nesting") == true)
    }

    @Test("Duplicate member names are kept, and a lookup finds the first")
    func keepsDuplicateNames() throws {
        let value = try JSONParser.parse(#"{"a":1,"a":2}"#)
        #expect(value.memberNames == ["a", "a"])
        #expect(value["a"] == .int(1))
    }
}

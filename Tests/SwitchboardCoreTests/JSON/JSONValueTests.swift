import Testing

@testable import SwitchboardCore

@Suite("JSON value")
struct JSONValueTests {
    @Test("A member is found by name in an object, and nowhere else")
    func subscriptFindsMembers() {
        let object = JSONValue.object([("a", .int(1)), ("b", .string("x"))])
        #expect(object["a"] == .int(1))
        #expect(object["b"] == .string("x"))
        #expect(object["c"] == nil)
        #expect(JSONValue.array([.int(1)])["a"] == nil)
        #expect(JSONValue.string("a")["a"] == nil)
    }

    @Test(
        "Integral numbers read as integers, whether written with a fraction or not",
        arguments: [
            (JSONValue.int(5), Int64?.some(5)),
            (.double(5), 5),
            (.double(-3), -3),
            (.double(5.5), nil),
            (.double(1e19), nil),
            (.string("5"), nil),
            (.bool(true), nil),
            (.null, nil),
        ]
    )
    func readsIntegers(value: JSONValue, expected: Int64?) {
        #expect(value.intValue == expected)
    }

    @Test("Only strings read as strings")
    func readsStrings() {
        #expect(JSONValue.string("s").stringValue == "s")
        #expect(JSONValue.int(1).stringValue == nil)
        #expect(JSONValue.null.stringValue == nil)
    }

    @Test(
        "Strings, numbers, booleans and null are scalars; arrays and objects are not",
        arguments: [
            (JSONValue.null, true), (.bool(false), true), (.int(1), true), (.double(1.5), true), (.string(""), true),
            (.array([]), false), (.object([]), false),
        ]
    )
    func classifiesScalars(value: JSONValue, isScalar: Bool) {
        #expect(value.isScalar == isScalar)
    }

    @Test("Equal values are equal and hash alike, so they can be used in sets")
    func equalValuesHashAlike() throws {
        let a = try JSONParser.parse(#"{"a":[1,"x",null],"b":{"c":true}}"#)
        let b = try JSONParser.parse(#" { "a" : [ 1 , "x" , null ] , "b" : { "c" : true } } "#)
        #expect(a == b)
        #expect(Set([a, b]).count == 1)
        #expect(a != (try JSONParser.parse(#"{"a":[1,"x",null],"b":{"c":false}}"#)))
        #expect(JSONValue.int(1) != .string("1"))
    }
}

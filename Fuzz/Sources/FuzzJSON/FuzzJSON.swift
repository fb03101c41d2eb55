/// Fuzz target: `JSONParser.parse` on arbitrary bytes. A value that parses must survive a round trip:
/// its `jsonText` parses back to an equal value, and writing that value again gives the same text.
import SwitchboardCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let value = try? JSONParser.parse(bytes) else { return 0 }
    let text = value.jsonText
    let reparsed: JSONValue
    do {
        reparsed = try JSONParser.parse(Array(text.utf8))
    } catch {
        fatalError("jsonText does not parse back: \(error); text: \(text)")
    }
    precondition(reparsed == value, "jsonText parses back to a different value; text: \(text)")
    precondition(reparsed.jsonText == text, "writing the reparsed value changes the text: \(text)")
    return 0
}

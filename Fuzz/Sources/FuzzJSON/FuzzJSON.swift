/// Fuzz target: `JSONParser.parse` on arbitrary bytes. A value that parses must survive a round trip: its
/// `jsonText` parses back to an equal value, and writing that value again gives the same text.
///
/// "Equal" compares numbers by value: the writer deliberately writes an integral double below 1e15 as an
/// integer (`1e2` is written `100` and reads back as `.int(100)`, `-0.0` as `0`), so `==`, which tells
/// `.int` from `.double`, is too strict for the round trip.
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
    if !sameJSON(reparsed, value) { fatalError("jsonText parses back to a different value; text: \(text)") }
    if reparsed.jsonText != text { fatalError("writing the reparsed value changes the text: \(text)") }
    return 0
}

/// Structural equality, with numbers compared by value whichever case holds them.
private func sameJSON(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
    switch (lhs, rhs) {
    case (.int(let a), .double(let b)), (.double(let b), .int(let a)):
        return b.rounded() == b && abs(b) < 0x1p63 && Int64(b) == a
    case (.array(let a), .array(let b)):
        return a.count == b.count && zip(a, b).allSatisfy(sameJSON)
    case (.object(let a), .object(let b)):
        return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && sameJSON($0.1, $1.1) }
    default:
        return lhs == rhs
    }
}

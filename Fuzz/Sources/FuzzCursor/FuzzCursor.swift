/// Fuzz target: `CursorSet(parsing:)` on arbitrary text. A set that parses must round-trip: its
/// `description` parses back to an equal set, and so does each `Cursor`'s description on its own.
import SwitchboardCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCursor(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let set = try? CursorSet(parsing: text) else { return 0 }
    precondition(!set.cursors.isEmpty, "a parsed cursor set is empty: \(text)")
    guard let reparsed = try? CursorSet(parsing: set.description) else {
        fatalError("the description of a parsed cursor set does not parse: \(set.description)")
    }
    precondition(reparsed == set, "the cursor set changes in a round trip: \(set.description)")
    for cursor in set.cursors {
        precondition(cursor.offset >= 0, "a parsed cursor has a negative offset: \(cursor)")
        guard let single = try? CursorSet(parsing: cursor.description) else {
            fatalError("the description of a parsed cursor does not parse: \(cursor)")
        }
        precondition(single.cursors == [cursor], "the cursor changes in a round trip: \(cursor)")
        precondition(set.offset(for: cursor.channel) != nil, "a parsed cursor's channel is not found: \(cursor)")
    }
    return 0
}

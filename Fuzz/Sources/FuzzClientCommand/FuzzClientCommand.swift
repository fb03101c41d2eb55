/// Fuzz target: `ClientCommand.decode` on the payload of a WebSocket text frame, with the default limits.
/// Any outcome but a crash is fine; a rejection's `ref` must be a JSON scalar, as for an accepted command.
import SwitchboardCore

private let limits = Limits()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzClientCommand(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        let envelope = try ClientCommand.decode(bytes, limits: limits)
        precondition(envelope.ref?.isScalar ?? true, "an accepted command echoes a non-scalar ref")
    } catch {
        precondition(error.ref?.isScalar ?? true, "a rejection echoes a non-scalar ref")
    }
    return 0
}

import ControlProtocol
import FuzzSupport

/// One request line → `ControlCoding.decode(ControlRequest.self, …)`: a request or a thrown
/// error, never a crash or a hang. A decoded request must survive a round trip through
/// `encodeLine`, since the daemon echoes parts of it back.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzControlDecoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let line = FuzzInput.bytes(data, size)
    guard let request = try? ControlCoding.decode(ControlRequest.self, from: line) else { return 0 }
    do {
        var encoded = try ControlCoding.encodeLine(request)
        if encoded.dropLast().contains(UInt8(ascii: "\n")) { fatalError("encodeLine put a newline inside the line: \(request)") }
        encoded.removeLast()
        let again = try ControlCoding.decode(ControlRequest.self, from: encoded)
        if again != request { fatalError("request changed in a round trip: \(request) → \(again)") }
    } catch {
        fatalError("a decoded request does not encode and decode again: \(request): \(error)")
    }
    return 0
}

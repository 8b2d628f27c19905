import ControlProtocol
import FuzzSupport

/// A byte stream cut into chunks → `LineFramer`: the lines it returns are exactly the
/// newline-separated parts of the stream that fit the limit (a trailing `\r` removed), a
/// `tooLong` stands for each part that did not, and it never buffers more than the limit.
/// The first two bytes choose the limit and the chunk size.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLineFramer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput.bytes(data, size)
    guard input.count >= 2 else { return 0 }
    let limit = Int(input[0] % 64) + 1
    let chunkSize = Int(input[1] % 16) + 1
    let stream = Array(input.dropFirst(2))

    var framer = LineFramer(maxLineBytes: limit)
    var events: [LineFramer.Event] = []
    var index = 0
    while index < stream.count {
        let end = min(index + chunkSize, stream.count)
        events += framer.append(stream[index..<end])
        index = end
    }

    // What a framer must produce, computed the simple way on the whole stream.
    var expected: [LineFramer.Event] = []
    var parts = stream.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    let unfinished = parts.removeLast()
    for part in parts {
        if part.count > limit {
            expected.append(.tooLong)
        } else {
            var line = Array(part)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            expected.append(.line(line))
        }
    }
    if unfinished.count > limit { expected.append(.tooLong) }
    if events != expected {
        fatalError("limit \(limit), chunks of \(chunkSize): framer gave \(events), expected \(expected)")
    }
    if framer.hasPartialLine != !unfinished.isEmpty {
        fatalError("hasPartialLine is \(framer.hasPartialLine) with \(unfinished.count) unfinished bytes")
    }
    return 0
}

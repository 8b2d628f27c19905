#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a whole file with open/read, retrying `EINTR`.
///
/// Foundation's `Data(contentsOf:)` gives up with "NSCocoaErrorDomain error 256" when a read is
/// interrupted by a signal (a child process exiting, SIGHUP), which made a shipped workflow
/// file fail to load now and then while other processes came and went.
public enum FileBytes {
    /// The file's bytes, or its first `limit` bytes when it has more (a caller that must refuse
    /// a large file asks for one byte more than it accepts, so a huge file or an endless one
    /// such as `/dev/zero` is never read whole).
    /// - Throws: `FileBytes.Failure` naming the call and the errno text.
    public static func read(path: String, atMost limit: Int = .max) throws(Failure) -> [UInt8] {
        var fd: Int32
        repeat { fd = open(path, O_RDONLY | O_CLOEXEC) } while fd < 0 && errno == EINTR
        guard fd >= 0 else { throw Failure(operation: "open", code: errno) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while bytes.count < limit {
            let wanted = min(chunk.count, limit - bytes.count)
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, wanted) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(operation: "read", code: errno)
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return bytes
    }

    /// Why a file could not be read: `read: Is a directory`.
    public struct Failure: Error, CustomStringConvertible {
        public var operation: String
        public var code: Int32
        public var description: String { "\(operation): \(String(cString: strerror(code)))" }
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking client of the control socket, for the CLI and tests: connect, send one request
/// line, read one response line.
public final class ControlClient {
    /// Why talking to the daemon failed, in words for the person at the terminal.
    public struct ConnectionError: Error, CustomStringConvertible {
        public var socketPath: String
        public var operation: String
        public var errno: Int32

        public var description: String {
            switch errno {
            case ENOENT:
                return "huayingd is not running: no control socket at \(socketPath) (start it with `make run` or `systemctl start huayingd`)"
            case ECONNREFUSED:
                return "huayingd is not running: \(socketPath) exists but nobody is listening (a stale socket from a daemon that died)"
            case EACCES:
                return "permission denied on \(socketPath): ask an admin to add you to the socket's group"
            default:
                return "cannot talk to huayingd at \(socketPath): \(operation): \(String(cString: strerror(errno)))"
            }
        }
    }

    public let socketPath: String
    private let fd: Int32
    private var pending: [UInt8] = []

    /// Connects to the daemon.
    ///
    /// The descriptor stays local until it is connected: a throwing class initializer still
    /// runs `deinit`, and a descriptor closed here and again there would close whatever another
    /// thread had opened under the same number in between.
    /// - Throws: `ConnectionError` naming the socket and why.
    public init(socketPath: String) throws {
        self.socketPath = socketPath
        fd = try Self.connected(to: socketPath)
    }

    private static func connected(to socketPath: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ConnectionError(socketPath: socketPath, operation: "socket", errno: errno) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(socketPath.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else {
            close(fd)
            throw ConnectionError(socketPath: socketPath, operation: "connect", errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: pathBytes)
            buffer[pathBytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if result != 0 {
            let code = errno
            close(fd)
            throw ConnectionError(socketPath: socketPath, operation: "connect", errno: code)
        }
        return fd
    }

    deinit { close(fd) }

    /// Gives up waiting for an answer after this many seconds (`SO_RCVTIMEO`): ``readLine()``
    /// then throws a `ConnectionError` with `EAGAIN`. Nil (the default) waits for ever.
    public func setReceiveTimeout(seconds: Double?) {
        let whole = seconds.map { Int($0) } ?? 0
        var value = timeval(tv_sec: whole, tv_usec: seconds.map { Int(($0 - Double(whole)) * 1_000_000) } ?? 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends raw bytes (tests use this to send garbage).
    public func send(raw bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            // MSG_NOSIGNAL: a daemon that closed the connection gives EPIPE here, not a SIGPIPE that kills the caller.
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR { continue }
                throw ConnectionError(socketPath: socketPath, operation: "write", errno: errno)
            }
            offset += written
        }
    }

    /// Reads one line (without the newline); nil when the daemon closed the connection first.
    public func readLine() throws -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                return line
            }
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                let code = errno
                throw ConnectionError(socketPath: socketPath, operation: code == EAGAIN ? "read (no answer in time)" : "read", errno: code)
            }

            if count == 0 { return nil }
            pending.append(contentsOf: chunk[..<count])
        }
    }

    /// Sends a request and waits for its response.
    ///
    /// A daemon that refuses the connection (`busy`: too many clients) answers at once and
    /// closes; when sending then fails, the answer already waiting is returned rather than a
    /// misleading write error.
    public func call(_ request: ControlRequest) throws -> ControlResponse {
        do {
            try send(raw: ControlCoding.encodeLine(request))
        } catch let error as ConnectionError where error.errno == EPIPE || error.errno == ECONNRESET {
            guard let line = try? readLine(), let response = try? ControlCoding.decode(ControlResponse.self, from: line) else {
                throw error
            }
            return response
        }
        guard let line = try readLine() else {

            throw ConnectionError(socketPath: socketPath, operation: "read (daemon closed the connection)", errno: ECONNRESET)
        }
        return try ControlCoding.decode(ControlResponse.self, from: line)
    }

    /// Half-closes the sending side, as a client that is done writing.
    public func shutdownWrite() {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }
}

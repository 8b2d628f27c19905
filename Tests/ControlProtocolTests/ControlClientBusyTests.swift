import ControlProtocol
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A daemon that refuses a connection writes its `busy` answer and closes without reading the
/// request. The client's write then fails (EPIPE); it must read the answer waiting for it and
/// report `busy`, not `write: Broken pipe`.
@Suite struct ControlClientBusyTests {
    @Test func aWriteToAServerThatAnsweredAndClosedGivesItsAnswerNotBrokenPipe() throws {
        signal(SIGPIPE, SIG_IGN)
        let path = NSTemporaryDirectory() + "hy-busy-\(getpid())-\(UUID().uuidString.prefix(6)).sock"
        let listener = try Self.listen(at: path)
        defer {
            close(listener)
            unlink(path)
        }
        // connect() completes through the listen backlog, before the server accepts.
        let client = try ControlClient(socketPath: path)
        let server = accept(listener, nil, nil)
        try #require(server >= 0, "accept: \(String(cString: strerror(errno)))")
        let busy = try ControlCoding.encodeLine(ControlResponse.failure(ControlError(code: RefusalCode.busy.rawValue, message: "too many connections")))
        let written = busy.withUnsafeBytes { write(server, $0.baseAddress, $0.count) }
        #expect(written == busy.count)
        close(server)  // without reading anything

        let response = try client.call(ControlRequest(command: "status"))
        #expect(response.ok == false)
        #expect(response.error?.code == "busy")
        #expect(response.error?.message == "too many connections")
    }

    @Test func aServerThatClosedWithoutAnAnswerIsStillAConnectionError() throws {
        signal(SIGPIPE, SIG_IGN)
        let path = NSTemporaryDirectory() + "hy-busy-\(getpid())-\(UUID().uuidString.prefix(6)).sock"
        let listener = try Self.listen(at: path)
        defer {
            close(listener)
            unlink(path)
        }
        let client = try ControlClient(socketPath: path)
        let server = accept(listener, nil, nil)
        try #require(server >= 0)
        close(server)
        #expect(throws: ControlClient.ConnectionError.self) { try client.call(ControlRequest(command: "status")) }
    }

    private static func listen(at path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        try #require(bytes.count < MemoryLayout.size(ofValue: address.sun_path))
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: bytes)
            buffer[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0, "bind: \(String(cString: strerror(errno)))")
        try #require(Glibc.listen(fd, 4) == 0)
        return fd
    }
}

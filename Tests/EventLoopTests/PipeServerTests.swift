import CLibUV
import EventLoop
import Foundation
import Testing

@Suite struct PipeServerTests {
    @Test func bindingAnOccupiedPathFailsWithEADDRINUSEAndLeavesTheSocketAlone() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("busy.sock")
        let loop = try EventLoop()
        let first = try PipeServer(loop: loop)
        try first.bind(path: path)
        let second = try PipeServer(loop: loop)

        let error = #expect(throws: UVError.self) { try second.bind(path: path) }
        #expect(error?.code == UV_EADDRINUSE.rawValue)
        #expect(error?.operation == "uv_pipe_bind")
        #expect(error?.description == "uv_pipe_bind: EADDRINUSE (address already in use)")

        second.close()
        loop.runOnce(wait: false)
        #expect(exists(path))  // the failed server must not unlink the other one's socket
        first.close()
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func closingTheServerRemovesItsSocketFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("gone.sock")
        let loop = try EventLoop()
        let server = try PipeServer(loop: loop)
        try server.bind(path: path)
        try server.listen { _ in }
        #expect(server.path == path)
        #expect(exists(path))
        server.close()
        server.close()
        try loop.close()
        #expect(!exists(path))
        #expect(loop.openHandleCount == 0)
    }

    @Test func bindingInAMissingDirectoryReportsEACCES() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let loop = try EventLoop()
        let server = try PipeServer(loop: loop)
        #expect(throws: UVError(operation: "uv_pipe_bind", code: UV_EACCES)) {
            try server.bind(path: directory.file("missing/x.sock"))
        }
        server.close()
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func pathsThatDoNotFitSockaddrAreRefused() throws {
        let loop = try EventLoop()
        let server = try PipeServer(loop: loop)
        let long = "/tmp/" + String(repeating: "x", count: 120)
        #expect(throws: UVError(operation: "uv_pipe_bind", code: UV_ENAMETOOLONG)) { try server.bind(path: long) }
        #expect(throws: UVError(operation: "uv_pipe_bind", code: UV_EINVAL)) { try server.bind(path: "/tmp/a\0b") }
        #expect(throws: UVError(operation: "uv_pipe_bind", code: UV_EINVAL)) { try server.bind(path: "") }
        #expect(throws: UVError(operation: "uv_pipe_connect", code: UV_ENAMETOOLONG)) {
            try PipeConnection.connect(loop: loop, path: long) { _ in Issue.record("must not be called") }
        }
        server.close()
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func listeningBeforeBindingThrowsEINVAL() throws {
        let loop = try EventLoop()
        let server = try PipeServer(loop: loop)
        #expect(throws: UVError(operation: "uv_listen", code: UV_EINVAL)) { try server.listen { _ in } }
        server.close()
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }
}

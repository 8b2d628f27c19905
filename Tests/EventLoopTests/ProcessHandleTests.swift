import CLibUV
import EventLoop
import Foundation
import Testing

@Suite struct ProcessHandleTests {
    init() {
        ignoreSIGPIPE()
    }

    @Test func capturesStdoutAndTheExitStatus() throws {
        let loop = try EventLoop()
        let watchdog = try Watchdog(loop)
        var output: [UInt8] = []
        var outputEnded = false
        var exits: [(Int64, Int32)] = []
        let process = try ProcessHandle(
            loop: loop,
            options: .init(executable: "/bin/sh", arguments: ["-c", "echo hi; exit 3"], captureStdout: true)
        ) { status, signal in exits.append((status, signal)) }
        #expect(process.pid > 0)
        #expect(process.stdin == nil && process.stderr == nil)
        let stdout = try #require(process.stdout)
        try stdout.startReading(onData: { output += $0 }, onEnd: { error in
            #expect(error == nil)
            outputEnded = true
        })
        loop.run()  // ends when the child exited and stdout reached EOF
        #expect(!watchdog.fired)
        #expect(outputEnded)
        #expect(text(output) == "hi\n")
        #expect(exits.count == 1)
        #expect(exits.first?.0 == 3)
        #expect(exits.first?.1 == 0)
        #expect(process.hasExited)
        process.close()
        process.close()
        #expect(stdout.isClosed)
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func processKilledWithSIGTERMReportsTermSignal15() throws {
        let loop = try EventLoop()
        let watchdog = try Watchdog(loop)
        var exits: [(Int64, Int32)] = []
        let process = try ProcessHandle(loop: loop, options: .init(executable: "/bin/sleep", arguments: ["30"])) { status, signal in
            exits.append((status, signal))
        }
        try process.kill(SIGTERM)
        loop.run()
        #expect(!watchdog.fired)
        #expect(exits.count == 1)
        #expect(exits.first?.0 == 0)
        #expect(exits.first?.1 == SIGTERM)
        #expect(throws: UVError(operation: "uv_process_kill", code: UV_ESRCH)) { try process.kill(SIGTERM) }
        process.close()
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func spawningANonexistentExecutableThrowsENOENT() throws {
        let loop = try EventLoop()
        #expect(throws: UVError(operation: "uv_spawn", code: UV_ENOENT)) {
            _ = try ProcessHandle(
                loop: loop,
                options: .init(executable: "/nonexistent/huaying-plugin", captureStdin: true, captureStdout: true)
            ) { _, _ in Issue.record("never started, never exits") }
        }
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func stdinIsWrittenToTheChild() throws {
        let loop = try EventLoop()
        let watchdog = try Watchdog(loop)
        var output: [UInt8] = []
        var exitStatus: Int64?
        let process = try ProcessHandle(
            loop: loop,
            options: .init(executable: "cat", captureStdin: true, captureStdout: true)
        ) { status, _ in exitStatus = status }
        let stdin = try #require(process.stdin)
        let stdout = try #require(process.stdout)
        #expect(throws: UVError(operation: "uv_read_start", code: UV_ENOTCONN)) {
            try stdin.startReading(onData: { _ in }, onEnd: { _ in })
        }
        try stdout.startReading(onData: { output += $0 }, onEnd: { _ in })
        stdin.write(bytes("{\"request\":1}\n"))
        stdin.shutdown { error in
            #expect(error == nil)
            stdin.close()  // cat sees EOF and exits
        }
        loop.run()
        #expect(!watchdog.fired)
        #expect(text(output) == "{\"request\":1}\n")
        #expect(exitStatus == 0)
        process.close()
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func environmentAndWorkingDirectoryArePassed() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let loop = try EventLoop()
        let watchdog = try Watchdog(loop)
        var output: [UInt8] = []
        var errorOutput: [UInt8] = []
        let process = try ProcessHandle(
            loop: loop,
            options: .init(
                executable: "sh",
                arguments: ["-c", "printf '%s:%s' \"$GREETING\" \"$(pwd)\"; printf oops >&2"],
                environment: ["GREETING": "hello", "PATH": "/usr/bin:/bin"],
                workingDirectory: directory.path,
                captureStdout: true,
                captureStderr: true
            )
        ) { _, _ in }
        try process.stdout?.startReading(onData: { output += $0 }, onEnd: { _ in })
        try process.stderr?.startReading(onData: { errorOutput += $0 }, onEnd: { _ in })
        loop.run()
        #expect(!watchdog.fired)
        #expect(text(output) == "hello:\(directory.path)")
        #expect(text(errorOutput) == "oops")
        process.close()
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func invalidOptionsAreRefusedWithEINVAL() throws {
        let loop = try EventLoop()
        let refused = UVError(operation: "uv_spawn", code: UV_EINVAL)
        #expect(throws: refused) { try ProcessHandle(loop: loop, options: .init(executable: "/bin/echo", arguments: ["a\0b"])) { _, _ in } }
        #expect(throws: refused) { try ProcessHandle(loop: loop, options: .init(executable: "")) { _, _ in } }
        #expect(throws: refused) {
            try ProcessHandle(loop: loop, options: .init(executable: "/bin/true", environment: ["A=B": "c"])) { _, _ in }
        }
        #expect(loop.openHandleCount == 0)
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func loopCloseClosesARunningProcessHandleAndItsPipes() throws {
        let loop = try EventLoop()
        let process = try ProcessHandle(
            loop: loop,
            options: .init(executable: "/bin/sleep", arguments: ["30"], captureStdin: true, captureStdout: true)
        ) { _, _ in }
        try process.kill(SIGKILL)  // so it does not outlive the test
        #expect(loop.openHandleCount == 3)
        try loop.close()
        #expect(process.isClosed && process.stdin?.isClosed == true && process.stdout?.isClosed == true)
        #expect(loop.openHandleCount == 0)
    }
}

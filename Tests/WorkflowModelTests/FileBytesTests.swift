import Foundation
import Testing
import WorkflowModel
#if canImport(Glibc)
import Glibc
#endif

/// Reading workflow, staff and calendar files survives signals (a shipped workflow file once
/// failed to load with "NSCocoaErrorDomain error 256" while child processes came and went).
@Suite struct FileBytesTests {
    @Test func aFileIsReadWholeAndADirectoryIsRefusedByName() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("filebytes-\(UUID().uuidString)").path
        let text = String(repeating: "选举委员会\n", count: 20_000)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        #expect(try FileBytes.read(path: path) == Array(text.utf8))
        #expect(throws: FileBytes.Failure.self) { try FileBytes.read(path: "/tmp") }
        #expect(throws: FileBytes.Failure.self) { try FileBytes.read(path: "/no/such/file") }
    }

    /// A bounded read stops at its bound, even on a file that never ends.
    @Test func aBoundedReadStopsAtTheBound() throws {
        #expect(try FileBytes.read(path: "/dev/zero", atMost: 100_000) == [UInt8](repeating: 0, count: 100_000))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("filebytes-\(UUID().uuidString)").path
        try "村务公开".write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        #expect(try FileBytes.read(path: path, atMost: 3) == Array("村".utf8))
        #expect(try FileBytes.read(path: path, atMost: 1000) == Array("村务公开".utf8))
    }

    /// A read interrupted by a signal (handler without SA_RESTART) goes on reading.
    @Test func aReadInterruptedByASignalIsRetried() throws {
        let fifo = FileManager.default.temporaryDirectory.appendingPathComponent("filebytes-\(UUID().uuidString).fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        defer { unlink(fifo) }
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        action.sa_flags = 0  // no SA_RESTART: the blocked read returns EINTR
        var previous = sigaction()
        sigaction(SIGUSR2, &action, &previous)
        defer { sigaction(SIGUSR2, &previous, nil) }
        let reader = pthread_self()
        let writer = Thread {
            let fd = open(fifo, O_WRONLY)  // waits for the reader to open
            usleep(100_000)
            pthread_kill(reader, SIGUSR2)  // interrupts the reader's blocked read
            usleep(100_000)
            _ = "村务公开".withCString { write(fd, $0, strlen($0)) }
            close(fd)
        }
        writer.start()
        #expect(try FileBytes.read(path: fifo) == Array("村务公开".utf8))
    }
}

import CLibUV
import EventLoop
import Foundation
import Testing

@Suite struct FSEventHandleTests {
    @Test func reportsAFileCreatedInAWatchedDirectory() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let loop = try EventLoop()
        let watchdog = try Watchdog(loop)
        let watcher = try FSEventHandle(loop: loop)
        var seen: [(String?, FSEventHandle.Events)] = []
        try watcher.start(path: directory.path) { filename, events, error in
            #expect(error == nil)
            seen.append((filename, events))
            if filename == "created.txt" { watcher.close() }
        }
        #expect(FileManager.default.createFile(atPath: directory.file("created.txt"), contents: Data("x".utf8)))
        loop.run()
        #expect(!watchdog.fired)
        let created = seen.filter { $0.0 == "created.txt" }
        #expect(!created.isEmpty)
        #expect(created.first?.1.contains(.rename) == true)
        #expect(watcher.isClosed)
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func reportsAChangeToAWatchedFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("watched.txt")
        #expect(FileManager.default.createFile(atPath: path, contents: Data("a".utf8)))
        let loop = try EventLoop()
        let watchdog = try Watchdog(loop)
        let watcher = try FSEventHandle(loop: loop)
        var events: FSEventHandle.Events = []
        try watcher.start(path: path) { _, reported, error in
            #expect(error == nil)
            events.formUnion(reported)
            if events.contains(.change) { watcher.stop() }
        }
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.write(Data("more".utf8))
        try handle.close()
        loop.run()
        #expect(!watchdog.fired)
        #expect(events.contains(.change))
        #expect(!watcher.isClosed)
        watcher.close()
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func watchingAMissingPathThrowsENOENT() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let loop = try EventLoop()
        let watcher = try FSEventHandle(loop: loop)
        #expect(throws: UVError(operation: "uv_fs_event_start", code: UV_ENOENT)) {
            try watcher.start(path: directory.file("missing")) { _, _, _ in }
        }
        try watcher.start(path: directory.path) { _, _, _ in }  // still usable
        #expect(throws: UVError(operation: "uv_fs_event_start", code: UV_EINVAL)) {
            try watcher.start(path: directory.path) { _, _, _ in }
        }
        watcher.close()
        watcher.close()
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }
}

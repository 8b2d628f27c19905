import CLibUV
import EventLoop
import Foundation
import Testing

/// Stops the loop after `milliseconds` so a failing test cannot hang. Unreferenced, so
/// `run()` still returns as soon as the test's own handles are done.
final class Watchdog {
    private final class State {
        var fired = false
    }

    private let state = State()
    private let timer: TimerHandle

    /// Whether the deadline passed (the test's events did not all happen in time).
    var fired: Bool { state.fired }

    init(_ loop: EventLoop, milliseconds: UInt64 = 5_000) throws {
        timer = try TimerHandle(loop: loop)
        timer.unref()
        let state = self.state
        try timer.start(after: milliseconds) {
            state.fired = true
            loop.stop()
        }
    }
}

/// A fresh directory under /tmp, removed with everything in it by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/eventloop-test-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.map { mkdtemp($0) != nil } ?? false
        }
        guard created else { throw UVError(operation: "mkdtemp", code: -errno) }
        path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func file(_ name: String) -> String {
        path + "/" + name
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Whether anything (a file, a socket) exists at `path`.
func exists(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0
}

/// Writing to a peer that went away raises SIGPIPE, which would kill the test runner.
func ignoreSIGPIPE() {
    signal(SIGPIPE, SIG_IGN)
}

/// Runs `body` and records a thrown error as a test issue (for callbacks, which cannot throw).
func recordingErrors(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        try body()
    } catch {
        Issue.record(error, sourceLocation: sourceLocation)
    }
}

func bytes(_ text: String) -> [UInt8] {
    Array(text.utf8)
}

func text(_ bytes: [UInt8]) -> String {
    String(decoding: bytes, as: UTF8.self)
}

/// A POSIX thread running `body`, for tests that need a second thread to poke the loop.
final class BackgroundThread {
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    private var thread = pthread_t()

    init(_ body: @escaping @Sendable () -> Void) {
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        let result = pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            Unmanaged<Body>.fromOpaque(context).takeRetainedValue().run()
            return nil
        }, context)
        precondition(result == 0, "pthread_create failed: \(result)")
    }

    func join() {
        pthread_join(thread, nil)
    }
}

/// A flag and a counter shared between threads.
final class SharedState: @unchecked Sendable {
    // @unchecked: every access goes through `lock`.
    private let lock = NSLock()
    private var _stop = false
    private var _count = 0

    var stop: Bool {
        get { lock.withLock { _stop } }
        set { lock.withLock { _stop = newValue } }
    }

    var count: Int { lock.withLock { _count } }

    func increment() {
        lock.withLock { _count += 1 }
    }
}

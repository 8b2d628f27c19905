import ControlProtocol
import EventLoop
import Foundation
import Logging
import Testing
@testable import huayingd
#if canImport(Glibc)
import Glibc
#endif

/// The control server with handlers that answer later (a libuv timer), on a real socket: answers
/// go out in request order, and an answer for a connection that closed meanwhile is dropped.
@Suite struct ControlServerTests {
    /// What the client thread saw, handed to the test thread under a lock.
    final class Outcome: @unchecked Sendable {  // guarded by `lock`
        private let lock = NSLock()
        private var _lines: [String] = []
        private var _error: String?

        func finish(lines: [String], error: String?) {
            lock.lock()
            defer { lock.unlock() }
            _lines = lines
            _error = error
        }

        var lines: [String] { lock.lock(); defer { lock.unlock() }; return _lines }
        var error: String? { lock.lock(); defer { lock.unlock() }; return _error }
    }

    /// Runs `client` on its own thread (it blocks on the socket) while the loop runs here; the
    /// loop stops when the client is done (or after 10 s, which fails the test).
    private func run(_ loop: EventLoop, client: @escaping @Sendable () -> Void) throws {
        let done = try AsyncHandle(loop: loop) { loop.stop() }
        let watchdog = try TimerHandle(loop: loop)
        var timedOut = false
        try watchdog.start(after: 10_000) {
            timedOut = true
            loop.stop()
        }
        let thread = Thread {
            client()
            done.send()
        }
        thread.start()
        loop.run()
        #expect(!timedOut, "the client did not finish within 10 s")
        watchdog.close()
        done.close()
    }

    private static func socketPath() -> String { "/tmp/hy-cs-\(UUID().uuidString.prefix(8)).sock" }

    private static func request(_ command: String) -> [UInt8] {
        (try? ControlCoding.encodeLine(ControlRequest(command: command))) ?? []
    }

    @Test func answersGoOutInRequestOrderWhenALaterRequestIsAnsweredFirst() throws {
        signal(SIGPIPE, SIG_IGN)
        let loop = try EventLoop()
        let path = Self.socketPath()
        var answeredInOrder: [String] = []
        let server = try ControlServer(loop: loop, path: path, logger: Logger(label: "test")) { request, _, reply in
            guard request.command == "slow" else {
                answeredInOrder.append(request.command)
                reply(.success(.string(request.command)))
                return
            }
            do {
                let timer = try TimerHandle(loop: loop)
                try timer.start(after: 100) {
                    answeredInOrder.append("slow")
                    reply(.success(.string("slow")))
                    timer.close()
                }
            } catch {
                reply(.failure(ControlError(code: "internal_error", message: "\(error)")))
            }
        }
        let outcome = Outcome()
        try run(loop) {
            do {
                let client = try ControlClient(socketPath: path)
                // Both requests in one write: the second is answered while the first waits.
                try client.send(raw: Self.request("slow") + Self.request("fast") + Self.request("fast2"))
                var lines: [String] = []
                for _ in 0..<3 {
                    guard let line = try client.readLine() else { break }
                    let response = try ControlCoding.decode(ControlResponse.self, from: line)
                    if case let .string(text)? = response.result { lines.append(text) }
                }
                outcome.finish(lines: lines, error: nil)
            } catch {
                outcome.finish(lines: [], error: "\(error)")
            }
        }
        #expect(outcome.error == nil)
        #expect(answeredInOrder == ["fast", "fast2", "slow"], "the handler answered the later requests first")
        #expect(outcome.lines == ["slow", "fast", "fast2"], "yet the client reads the answers in request order")
        #expect(server.requestsServed == 3)
        server.close()
        try loop.close()
    }

    @Test func anAnswerForAConnectionThatClosedIsDroppedAndOthersAreStillServed() throws {
        signal(SIGPIPE, SIG_IGN)
        let loop = try EventLoop()
        let path = Self.socketPath()
        var lateReplies = 0
        let server = try ControlServer(loop: loop, path: path, logger: Logger(label: "test")) { request, _, reply in
            guard request.command == "slow" else {
                reply(.success(.string(lateReplies > 0 ? "late reply done" : "waiting")))
                return
            }
            do {
                let timer = try TimerHandle(loop: loop)
                try timer.start(after: 100) {
                    lateReplies += 1
                    reply(.success(.string("slow")))  // its connection is gone by now
                    timer.close()
                }
            } catch {
                reply(.failure(ControlError(code: "internal_error", message: "\(error)")))
            }
        }
        let outcome = Outcome()
        try run(loop) {
            do {
                do {
                    let leaving = try ControlClient(socketPath: path)
                    try leaving.send(raw: Self.request("slow"))
                }  // closed here, before the answer
                // Another client asks until the server says the late reply ran (no clock involved).
                let other = try ControlClient(socketPath: path)
                var last = ""
                let deadline = Date().addingTimeInterval(5)
                while last != "late reply done", Date() < deadline {
                    let response = try other.call(ControlRequest(command: "progress"))
                    if case let .string(text)? = response.result { last = text }
                }
                // The same connection still works after the dropped answer.
                let response = try other.call(ControlRequest(command: "progress"))
                if case let .string(text)? = response.result { outcome.finish(lines: [last, text], error: nil) }
            } catch {
                outcome.finish(lines: [], error: "\(error)")
            }
        }
        #expect(outcome.error == nil)
        #expect(outcome.lines == ["late reply done", "late reply done"])
        #expect(lateReplies == 1, "the late reply ran after its client left, without a crash")
        server.close()
        try loop.close()
    }
    /// Answers that are ready but wait behind a slower earlier request count toward the bound
    /// on a client's unsent answers: they were bounded only by number (255 of them, each as
    /// large as an answer can be), so a slow request at the head let one client park without
    /// limit.
    @Test func answersParkedBehindASlowRequestCountTowardTheUnsentBound() throws {
        signal(SIGPIPE, SIG_IGN)
        let loop = try EventLoop()
        let path = Self.socketPath()
        var limits = ControlServer.Limits()
        limits.maxUnsentOutputBytes = 64 * 1024
        let big = String(repeating: "答", count: 16 * 1024 / 3)  // about 16 KiB of UTF-8
        var bigHandled = 0
        var bigHandledWhenReleased: Int?
        var releaseSlow: (() -> Void)?
        let release = try TimerHandle(loop: loop)
        let server = try ControlServer(loop: loop, path: path, limits: limits, logger: Logger(label: "test")) { request, _, reply in
            if request.command == "slow" {
                releaseSlow = { reply(.success(.string("slow"))) }
            } else {
                bigHandled += 1
                reply(.success(.string(big)))
            }
        }
        // The slow answer comes once the server had the time to read every request it would.
        try release.start(after: 300) {
            bigHandledWhenReleased = bigHandled
            releaseSlow?()
        }
        let outcome = Outcome()
        let count = 100
        try run(loop) {
            do {
                let client = try ControlClient(socketPath: path)
                try client.send(raw: Self.request("slow") + Array((0..<count).map { _ in Self.request("big") }.joined()))
                var lines: [String] = []
                for _ in 0...count {
                    guard let line = try client.readLine() else { break }
                    let response = try ControlCoding.decode(ControlResponse.self, from: line)
                    if case let .string(text)? = response.result { lines.append(text == big ? "big" : text) }
                }
                outcome.finish(lines: lines, error: nil)
            } catch {
                outcome.finish(lines: [], error: "\(error)")
            }
        }
        #expect(outcome.error == nil)
        let handled = try #require(bigHandledWhenReleased)
        #expect(handled <= 6, "\(handled) answers of 16 KiB were made and parked behind the slow one, for a bound of 64 KiB")
        #expect(outcome.lines == ["slow"] + Array(repeating: "big", count: count), "every request is still answered, in order")
        release.close()
        server.close()
        try loop.close()
    }
}

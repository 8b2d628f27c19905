import CLibUV
import EventLoop
import Foundation
import Testing

@Suite struct LoopTests {
    @Test func freshLoopClosesCleanly() throws {
        let loop = try EventLoop()
        #expect(loop.openHandleCount == 0)
        #expect(!loop.isClosed)
        try loop.close()
        #expect(loop.isClosed)
        #expect(loop.openHandleCount == 0)
    }

    @Test func runReturnsWhenNothingIsActive() throws {
        let loop = try EventLoop()
        let timer = try TimerHandle(loop: loop)  // open but not started: not active
        loop.run()
        #expect(loop.runOnce(wait: false) == false)
        timer.close()
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func closeClosesHandlesStillOpen() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let loop = try EventLoop()
        let timer = try TimerHandle(loop: loop)
        try timer.start(after: 3_600_000) { Issue.record("timer should never fire") }
        let idleTimer = try TimerHandle(loop: loop)
        let signal = try SignalHandle(loop: loop)
        try signal.start(SIGWINCH) { _ in }  // default action "ignore": safe if another test sends it
        let server = try PipeServer(loop: loop)
        try server.bind(path: directory.file("s.sock"))
        try server.listen { _ in }
        let async = try AsyncHandle(loop: loop) {}
        #expect(loop.openHandleCount == 5)

        try loop.close()

        #expect(timer.isClosed && idleTimer.isClosed && signal.isClosed && server.isClosed && async.isClosed)
        #expect(loop.openHandleCount == 0)
        #expect(!exists(directory.file("s.sock")))
    }

    @Test func closeReleasesHandlesTheCallerDropped() throws {
        let loop = try EventLoop()
        weak var dropped: TimerHandle?
        do {
            let timer = try TimerHandle(loop: loop)
            try timer.start(after: 3_600_000) { _ = timer }  // the callback even captures the timer
            dropped = timer
        }
        #expect(dropped != nil)  // libuv holds it while it is open
        try loop.close()
        #expect(dropped == nil)
        #expect(loop.openHandleCount == 0)
    }

    @Test func closeClosesHandlesCreatedOutsideThisModule() throws {
        let loop = try EventLoop()
        let raw = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
        defer { raw.deallocate() }
        raw.initialize(to: uv_timer_t())
        #expect(uv_timer_init(loop.pointer, raw) == 0)
        #expect(uv_timer_start(raw, { _ in }, 3_600_000, 0) == 0)
        #expect(loop.openHandleCount == 1)
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func closingTwiceIsFine() throws {
        let loop = try EventLoop()
        _ = try TimerHandle(loop: loop)
        try loop.close()
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func creatingHandlesOnClosedLoopThrowsEINVAL() throws {
        let loop = try EventLoop()
        try loop.close()
        #expect(throws: UVError(operation: "uv_timer_init", code: UV_EINVAL)) { try TimerHandle(loop: loop) }
        #expect(throws: UVError(operation: "uv_pipe_init", code: UV_EINVAL)) { try PipeServer(loop: loop) }
        #expect(throws: UVError(operation: "uv_async_init", code: UV_EINVAL)) { try AsyncHandle(loop: loop) {} }
        loop.run()  // does nothing
        #expect(loop.runOnce(wait: true) == false)
        #expect(loop.openHandleCount == 0)
    }

    @Test func closeFromInsideCallbackThrowsBusyAndLaterSucceeds() throws {
        let loop = try EventLoop()
        let timer = try TimerHandle(loop: loop)
        try timer.start(after: 1) {
            #expect(throws: UVError(operation: "uv_loop_close", code: UV_EBUSY)) { try loop.close() }
            timer.close()
        }
        loop.run()
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func stopMakesRunReturn() throws {
        let loop = try EventLoop()
        let watchdog = try Watchdog(loop)
        let timer = try TimerHandle(loop: loop)
        var ticks = 0
        try timer.start(after: 1, repeating: 1) {
            ticks += 1
            if ticks == 3 { loop.stop() }
        }
        loop.run()
        #expect(ticks == 3)
        #expect(!watchdog.fired)
        #expect(!timer.isClosed)
        try loop.close()
        #expect(timer.isClosed)
        #expect(loop.openHandleCount == 0)
    }

    @Test func runOnceReportsWhetherWorkRemains() throws {
        let loop = try EventLoop()
        let timer = try TimerHandle(loop: loop)
        var fired = false
        try timer.start(after: 1) { fired = true }
        var iterations = 0
        while loop.runOnce(wait: true) {
            iterations += 1
            if iterations > 1_000 { break }
        }
        #expect(fired)
        #expect(loop.runOnce(wait: false) == false)
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func nowAdvancesOnlyWhenUpdated() throws {
        let loop = try EventLoop()
        loop.updateTime()
        let before = loop.now
        usleep(3_000)
        #expect(loop.now == before)  // cached
        loop.updateTime()
        #expect(loop.now >= before + 2)
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }
}

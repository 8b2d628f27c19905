import CLibUV
import EventLoop
import Testing

@Suite struct TimerHandleTests {
    @Test func firesOnceAfterTheDelay() throws {
        let loop = try EventLoop()
        let watchdog = try Watchdog(loop)
        let timer = try TimerHandle(loop: loop)
        let startedAt = loop.now
        var firedAt: [UInt64] = []
        try timer.start(after: 5) { firedAt.append(loop.now) }
        loop.run()
        #expect(!watchdog.fired)
        #expect(firedAt.count == 1)
        #expect(firedAt.allSatisfy { $0 >= startedAt + 5 })
        timer.close()
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func repeatsUntilStopped() throws {
        let loop = try EventLoop()
        let watchdog = try Watchdog(loop)
        let timer = try TimerHandle(loop: loop)
        var ticks = 0
        try timer.start(after: 1, repeating: 2) {
            ticks += 1
            if ticks == 3 { timer.stop() }
        }
        loop.run()  // returns once the stopped timer is the only handle left
        #expect(!watchdog.fired)
        #expect(ticks == 3)
        timer.close()
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func stopPreventsFiring() throws {
        let loop = try EventLoop()
        let watchdog = try Watchdog(loop)
        let stopped = try TimerHandle(loop: loop)
        var stoppedFired = false
        try stopped.start(after: 5) { stoppedFired = true }
        stopped.stop()
        let later = try TimerHandle(loop: loop)
        var laterFired = false
        try later.start(after: 15) { laterFired = true }
        loop.run()
        #expect(!watchdog.fired)
        #expect(laterFired)
        #expect(!stoppedFired)
        stopped.close()
        later.close()
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func restartReplacesTheCallback() throws {
        let loop = try EventLoop()
        let watchdog = try Watchdog(loop)
        let timer = try TimerHandle(loop: loop)
        var calls: [String] = []
        try timer.start(after: 1) { calls.append("first") }
        try timer.start(after: 2) { calls.append("second") }
        loop.run()
        #expect(!watchdog.fired)
        #expect(calls == ["second"])
        timer.close()
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func closeIsIdempotent() throws {
        let loop = try EventLoop()
        let timer = try TimerHandle(loop: loop)
        try timer.start(after: 1) { Issue.record("a closed timer must not fire") }
        timer.close()
        timer.close()
        #expect(timer.isClosed)
        loop.run()
        timer.close()
        #expect(loop.openHandleCount == 0)
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func closeFromInsideItsOwnCallback() throws {
        let loop = try EventLoop()
        let watchdog = try Watchdog(loop)
        let timer = try TimerHandle(loop: loop)
        var ticks = 0
        try timer.start(after: 1, repeating: 1) {
            ticks += 1
            timer.close()
        }
        loop.run()
        #expect(!watchdog.fired)
        #expect(ticks == 1)
        #expect(timer.isClosed)
        #expect(loop.openHandleCount == 1)  // its close callback has run: only the watchdog is left
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func isReleasedOnceClosedEvenWhenItsCallbackCapturesIt() throws {
        let loop = try EventLoop()
        weak var released: TimerHandle?
        do {
            let timer = try TimerHandle(loop: loop)
            try timer.start(after: 1) { timer.close() }
            released = timer
        }
        loop.run()
        #expect(released == nil)
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func startAfterCloseThrowsEINVAL() throws {
        let loop = try EventLoop()
        let timer = try TimerHandle(loop: loop)
        timer.close()
        #expect(throws: UVError(operation: "uv_timer_start", code: UV_EINVAL)) {
            try timer.start(after: 1) {}
        }
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func unreferencedTimerDoesNotKeepTheLoopRunning() throws {
        let loop = try EventLoop()
        let timer = try TimerHandle(loop: loop)
        try timer.start(after: 60_000) { Issue.record("run() should have returned long before") }
        timer.unref()
        loop.run()
        #expect(loop.openHandleCount == 1)
        try loop.close()
        #expect(timer.isClosed)
        #expect(loop.openHandleCount == 0)
    }
}

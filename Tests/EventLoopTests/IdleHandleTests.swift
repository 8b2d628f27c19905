import CLibUV
import EventLoop
import Testing

@Suite struct IdleHandleTests {
    @Test func runsOncePerIterationUntilStopped() throws {
        let loop = try EventLoop()
        let watchdog = try Watchdog(loop)
        let idle = try IdleHandle(loop: loop)
        var calls = 0
        try idle.start {
            calls += 1
            if calls == 5 { idle.stop() }
        }
        #expect(idle.isActive)
        loop.run()
        #expect(!watchdog.fired)
        #expect(calls == 5)
        #expect(!idle.isActive)
        idle.close()
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    /// The reason the engine slices with an idle handle: a due timer gets its turn between two
    /// slices, however many slices are left.
    @Test func aTimerRunsBetweenSlices() throws {
        let loop = try EventLoop()
        let watchdog = try Watchdog(loop)
        let idle = try IdleHandle(loop: loop)
        let timer = try TimerHandle(loop: loop)
        var log: [String] = []
        var slices = 0
        try idle.start {
            slices += 1
            log.append("slice")
            if slices == 1 { try? timer.start(after: 0) { log.append("timer") } }
            if slices == 4 { idle.stop() }
        }
        loop.run()
        #expect(!watchdog.fired)
        #expect(log.firstIndex(of: "timer") == 1)
        #expect(log.filter { $0 == "slice" }.count == 4)
        idle.close()
        timer.close()
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func closeInsideTheCallbackIsSafeAndIdempotent() throws {
        let loop = try EventLoop()
        let idle = try IdleHandle(loop: loop)
        var calls = 0
        try idle.start {
            calls += 1
            idle.close()
            idle.close()
        }
        loop.run()
        #expect(calls == 1)
        #expect(throws: UVError.self) { try idle.start {} }
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }
}

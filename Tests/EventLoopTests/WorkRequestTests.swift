import EventLoop
import Foundation
import Testing

@Suite struct WorkRequestTests {
    @Test func theWorkRunsOffTheLoopThreadAndTheCompletionOnIt() throws {
        let loop = try EventLoop()
        let loopThread = pthread_self()
        var answer: (value: Int, offThread: Bool)?
        var completedOnLoop = false
        try WorkRequest.queue(on: loop, { () -> (Int, Bool) in
            (21 * 2, pthread_equal(pthread_self(), loopThread) == 0)
        }, completion: { result in
            answer = result
            completedOnLoop = pthread_equal(pthread_self(), loopThread) != 0
        })
        loop.run()
        #expect(answer?.value == 42)
        #expect(answer?.offThread == true)
        #expect(completedOnLoop)
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    /// The point of it: the loop keeps serving timers while slow work runs.
    @Test func theLoopServesTimersWhileTheWorkRuns() throws {
        let loop = try EventLoop()
        let timer = try TimerHandle(loop: loop)
        var ticks = 0
        var ticksWhenDone = -1
        try timer.start(after: 1, repeating: 5) { ticks += 1 }
        try WorkRequest.queue(on: loop, { () -> Int in
            usleep(200_000)
            return 1
        }, completion: { _ in
            ticksWhenDone = ticks
            timer.close()
        })
        loop.run()
        #expect(ticksWhenDone >= 5)
        try loop.close()
    }

    @Test func aClosedLoopRefusesWork() throws {
        let loop = try EventLoop()
        try loop.close()
        #expect(throws: UVError.self) { try WorkRequest.queue(on: loop, { 1 }, completion: { _ in }) }
    }
}

import CLibUV
import EventLoop
import Foundation
import Testing

@Suite struct AsyncHandleTests {
    @Test func sendFromAnotherThreadRunsTheCallbackOnTheLoopThread() throws {
        let loop = try EventLoop()
        let watchdog = try Watchdog(loop)
        let loopThread = pthread_self()
        var calls = 0
        var onLoopThread = false
        var handle: AsyncHandle?
        let async = try AsyncHandle(loop: loop) {
            calls += 1
            onLoopThread = pthread_equal(pthread_self(), loopThread) != 0
            handle?.close()
        }
        handle = async
        let thread = BackgroundThread { async.send() }
        loop.run()
        thread.join()
        #expect(!watchdog.fired)
        #expect(calls == 1)
        #expect(onLoopThread)
        #expect(async.isClosed)
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func sendsAfterCloseAreIgnored() throws {
        let loop = try EventLoop()
        var calls = 0
        let async = try AsyncHandle(loop: loop) { calls += 1 }
        async.close()
        async.close()
        async.send()
        let thread = BackgroundThread {
            for _ in 0..<1_000 { async.send() }
        }
        thread.join()
        loop.run()
        #expect(calls == 0)
        async.send()  // after the close callback too
        try loop.close()
        async.send()  // and after the loop is gone
        #expect(calls == 0)
        #expect(loop.openHandleCount == 0)
    }

    @Test func sendsRacingWithCloseAreHarmless() throws {
        let loop = try EventLoop()
        let watchdog = try Watchdog(loop)
        let shared = SharedState()
        var calls = 0
        var handle: AsyncHandle?
        let async = try AsyncHandle(loop: loop) {
            calls += 1
            if calls == 20 {
                handle?.close()
                shared.stop = true
            }
        }
        handle = async
        let threads = (0..<2).map { _ in
            BackgroundThread {
                while !shared.stop {
                    async.send()
                    shared.increment()
                }
                for _ in 0..<100 { async.send() }  // certainly after close
            }
        }
        loop.run()
        threads.forEach { $0.join() }
        #expect(!watchdog.fired)
        #expect(calls == 20)
        #expect(shared.count >= 20)
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func sendsBeforeTheLoopRunsAreCoalesced() throws {
        let loop = try EventLoop()
        var calls = 0
        let async = try AsyncHandle(loop: loop) { calls += 1 }
        for _ in 0..<10 { async.send() }
        loop.runOnce(wait: false)
        #expect(calls == 1)
        async.close()
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }
}

import CLibUV
import EventLoop
import Foundation
import Testing

@Suite struct SignalHandleTests {
    @Test func receivesSIGUSR1SentToTheProcess() throws {
        let loop = try EventLoop()
        let watchdog = try Watchdog(loop)
        let handle = try SignalHandle(loop: loop)
        var received: [Int32] = []
        try handle.start(SIGUSR1) { signal in
            received.append(signal)
            handle.close()
        }
        // Not raise(): the test runner's worker threads block signals, so a signal raised on
        // this thread would stay pending; kill() lets any thread that accepts it take it.
        #expect(kill(getpid(), SIGUSR1) == 0)
        loop.run()
        #expect(!watchdog.fired)
        #expect(received == [SIGUSR1])
        #expect(handle.isClosed)
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func stoppingInsideTheCallbackKeepsTheHandleReusable() throws {
        let loop = try EventLoop()
        let watchdog = try Watchdog(loop)
        let handle = try SignalHandle(loop: loop)
        var received: [Int32] = []
        try handle.start(SIGUSR2) { signal in
            received.append(signal)
            handle.stop()
        }
        #expect(kill(getpid(), SIGUSR2) == 0)
        loop.run()
        #expect(!watchdog.fired)
        #expect(received == [SIGUSR2])
        #expect(!handle.isClosed)
        handle.close()
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func invalidSignalNumberThrowsEINVAL() throws {
        let loop = try EventLoop()
        let handle = try SignalHandle(loop: loop)
        #expect(throws: UVError(operation: "uv_signal_start", code: UV_EINVAL)) {
            try handle.start(0) { _ in }
        }
        handle.close()
        handle.close()
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }
}

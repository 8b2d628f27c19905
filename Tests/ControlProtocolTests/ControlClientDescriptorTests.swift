import ControlProtocol
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A client that fails to connect closes its descriptor exactly once.
///
/// Before, a failed connect closed the socket and the throwing initializer's `deinit` closed the
/// same number again; in a process with other threads that second close hit whatever had just
/// been opened under that number (a test saw `connect: Bad file descriptor` on a healthy daemon).
@Suite struct ControlClientDescriptorTests {
    @Test func aFailedConnectDoesNotCloseAnotherThreadsDescriptor() throws {
        let missing = NSTemporaryDirectory() + "huaying-no-daemon-\(getpid()).sock"
        let stop = ManagedAtomicFlag()
        let lost = ManagedCounter()
        let opened = ManagedCounter()
        // Another thread keeps opening descriptors, which take the lowest free numbers: the ones
        // the failing clients just released.
        let watcher = Thread {
            while !stop.isSet {
                var ends: [Int32] = [0, 0]
                guard pipe(&ends) == 0 else { continue }
                opened.increment()
                for _ in 0..<50 where fcntl(ends[0], F_GETFD) < 0 || fcntl(ends[1], F_GETFD) < 0 {
                    lost.increment()
                    break
                }
                close(ends[0])
                close(ends[1])
            }
        }
        watcher.start()
        for _ in 0..<30_000 {
            #expect(throws: ControlClient.ConnectionError.self) { try ControlClient(socketPath: missing) }
        }
        stop.set()
        while !watcher.isFinished { usleep(1_000) }
        #expect(opened.value > 0)
        #expect(lost.value == 0, "descriptors another thread held were closed under it \(lost.value) times")
    }
}

/// The small amount of shared state the two threads need, behind a lock.
private final class ManagedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

private final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    func set() { lock.withLock { flag = true } }
    var isSet: Bool { lock.withLock { flag } }
}

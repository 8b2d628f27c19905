import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Asks `condition` until it holds, every `interval` microseconds, for at most `seconds` of
/// real time: for another process to do something (write a file, answer, log a line), never
/// for an engine timer, which the tests drive with the simulated clock.
/// - Returns: whether the condition held in time.
@discardableResult
public func poll(seconds: Double, every interval: UInt32 = 20_000, until condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while try !condition() {
        guard Date() < deadline else { return false }
        usleep(interval)
    }
    return true
}

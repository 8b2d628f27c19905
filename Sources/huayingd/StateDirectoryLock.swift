import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on `huayingd.lock` in the state directory, held for the daemon's whole
/// life, so a second daemon on the same state refuses to start instead of sharing the database.
///
/// The kernel drops the lock when the process dies, even by SIGKILL, so a crash never leaves
/// a stale lock behind. The file holds the owner's pid, for the refusal message.
final class StateDirectoryLock {
    struct Held: Error, CustomStringConvertible {
        var path: String
        var ownerPID: String?
        var description: String {
            let owner = ownerPID.map { "another huayingd (pid \($0))" } ?? "another huayingd"
            return "\(owner) is already using this state directory (lock \(path)); stop it first, or give this one its own --state-dir"
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var operation: String
        var path: String
        var code: Int32
        var description: String { "\(operation) \(path): \(String(cString: strerror(code)))" }
    }

    let path: String
    private var fd: Int32

    /// Takes the lock or throws `Held` naming the owner.
    init(path: String) throws {
        self.path = path
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw Failure(operation: "open", path: path, code: errno) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
            close(fd)
            fd = -1
            if code == EWOULDBLOCK {
                let owner = count > 0
                    ? String(decoding: buffer[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                    : nil
                throw Held(path: path, ownerPID: owner)
            }
            throw Failure(operation: "flock", path: path, code: code)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    /// Releases the lock (idempotent). The file stays: unlinking a lock file races with the next owner.
    func release() {
        guard fd >= 0 else { return }
        _ = ftruncate(fd, 0)
        close(fd)
        fd = -1
    }

    deinit { release() }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Who is on the other end of a control connection, from the socket's peer credentials
/// (`SO_PEERCRED`), which the kernel fills and a client cannot forge.
struct Caller: Sendable, CustomStringConvertible {
    var pid: Int32
    var uid: UInt32
    var gid: UInt32
    /// The Unix user name, or `uid:N` when the uid has no passwd entry.
    var userName: String

    init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
        self.userName = Caller.userName(uid: uid) ?? "uid:\(uid)"
    }

    var description: String { "\(userName) (uid \(uid), pid \(pid))" }

    static func userName(uid: UInt32) -> String? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        let status = getpwuid_r(uid, &entry, &buffer, buffer.count, &result)
        guard status == 0, result != nil, let name = entry.pw_name else { return nil }
        return String(cString: name)
    }
}

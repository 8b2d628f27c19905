import ControlProtocol
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Gets the control socket's path ready for `bind`: creates its directory, and removes a
/// socket file left by a daemon that died — but only after checking that nobody answers on
/// it, and never a file that is not a socket.
enum ControlSocketPath {
    struct InUse: Error, CustomStringConvertible {
        var path: String
        var reason: String
        var description: String { "cannot use control socket \(path): \(reason)" }
    }

    /// - Returns: true when a stale socket file was removed.
    static func prepare(_ path: String) throws -> Bool {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        var info = stat()
        guard lstat(path, &info) == 0 else { return false }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            throw InUse(path: path, reason: "a file that is not a socket is in the way; remove it or choose another path")
        }
        do {
            _ = try ControlClient(socketPath: path)
            throw InUse(path: path, reason: "another daemon is listening on it; stop it first, or give this one its own --socket")
        } catch let error as ControlClient.ConnectionError where error.errno == ECONNREFUSED {
            guard unlink(path) == 0 else {
                throw InUse(path: path, reason: "cannot remove the stale socket: \(String(cString: strerror(errno)))")
            }
            return true
        }
    }

    /// Gives the bound socket its configured group (mode 0660 lets that group's members in).
    /// - Throws: `InUse` naming the group when it does not exist or cannot be set.
    static func setGroup(_ path: String, group: String?) throws {
        guard let group else { return }
        guard let entry = getgrnam(group) else {
            throw InUse(path: path, reason: "access.socket_group '\(group)' is not a group on this machine (create it with `groupadd \(group)`)")
        }
        guard chown(path, uid_t.max, entry.pointee.gr_gid) == 0 else {
            throw InUse(path: path, reason: "cannot give it group \(group): \(String(cString: strerror(errno)))")
        }
    }
}

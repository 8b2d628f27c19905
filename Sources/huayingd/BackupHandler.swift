import ControlProtocol
import EventLoop
import Foundation
import Logging
import SQLiteStore
import WorkflowEngine
#if canImport(Glibc)
import Glibc
#endif

/// `huaying backup FILE`: the daemon copies its database into FILE with SQLite's online
/// backup API while it keeps running, then verifies the copy's ledger, each a slice per loop
/// turn (`pagesPerSlice` pages, `rowsPerSlice` rows), so no client waits behind it.
///
/// The daemon writes the file, not the CLI (the CLI cannot read the database): to
/// `FILE.partial` first, created exclusively (never following a symbolic link, never over an
/// existing file) with mode 0640 and given to the caller when the daemon runs as root; the
/// finished, verified copy is then linked to FILE (refused if FILE appeared meanwhile). The
/// caller must be able to create files in FILE's folder: root, the folder's owner, or anyone
/// in a sticky world-writable folder such as /tmp — the daemon never writes where its caller
/// could not.
///
/// - Important: Loop thread only.
final class BackupHandler {
    static let commands = ["backup"]
    static let pagesPerSlice: Int32 = 128
    static let rowsPerSlice = 200

    private let loop: EventLoop
    private let database: Database
    private let key: LedgerKey?
    private let logger: Logger
    /// Runs a slice per loop iteration while a backup is in progress.
    private var idle: IdleHandle?
    private var jobs: [Int: BackupStatus] = [:]
    private var running: Running?
    private var nextJob = 0

    /// The state of the backup in progress.
    private struct Running {
        var job: Int
        var partial: String
        var backup: Backup?
        var copy: Database?
        var walk = LedgerChainWalk(from: .genesis, keyed: false, key: nil)
        var started = Date()
    }

    init(loop: EventLoop, database: Database, key: LedgerKey?, logger: Logger) {
        self.loop = loop
        self.database = database
        self.key = key
        self.logger = logger
    }

    /// `backup {path}` starts a job; `backup {job}` reports one.
    func handle(_ request: ControlRequest, caller: Caller) throws(ControlError) -> JSONValue {
        let arguments = Arguments(values: request.arguments, command: request.command)
        do {
            if let job = try arguments.optionalInt("job") {
                guard let status = jobs[Int(job)] else {
                    throw ControlError(.unknownJob, "no backup job \(job) in this daemon run")
                }
                return try ControlCoding.value(status)
            }
            return try ControlCoding.value(try start(path: try arguments.string("path"), caller: caller))
        } catch let error as ControlError {
            throw error
        } catch {
            throw ControlError(.internalError, "backup failed: \(error)")
        }
    }

    /// Closes the slice handle and abandons a backup in progress (its partial file is removed).
    func close() {
        idle?.close()
        idle = nil
        if let running { fail(running, "the daemon stopped") }
    }

    private func start(path: String, caller: Caller) throws(ControlError) -> BackupStatus {
        if let running, let current = jobs[running.job] {
            throw ControlError(.backupRunning, "a backup to \(current.path) is in progress (job \(running.job)); wait for it")
        }
        guard path.hasPrefix("/") else {
            throw ControlError(.badArguments, "backup: the path must be absolute, not '\(path)'")
        }
        let directory = (path as NSString).deletingLastPathComponent
        try Self.checkDestination(path, directory: directory, caller: caller)
        let partial = path + ".partial"
        let fd = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw ControlError(.cannotWrite, "backup: cannot create \(partial): \(String(cString: strerror(errno)))")
        }
        // Whatever the umask: owner read-write, group read. Given to the caller when we can.
        fchmod(fd, 0o640)
        if geteuid() == 0 && caller.uid != 0 { _ = fchown(fd, caller.uid, caller.gid) }
        Glibc.close(fd)

        nextJob += 1
        var running = Running(job: nextJob, partial: partial)
        running.walk = LedgerChainWalk(from: .genesis, keyed: false, key: key)
        jobs[nextJob] = BackupStatus(job: nextJob, path: path, state: "copying")
        do {
            running.backup = try Backup(from: database, to: partial)
            if idle == nil { idle = try IdleHandle(loop: loop) }
        } catch {
            unlink(partial)
            jobs[nextJob]?.state = "failed"
            jobs[nextJob]?.error = "\(error)"
            throw ControlError(.cannotWrite, "backup: \(error)")
        }
        self.running = running
        logger.notice("backup started", metadata: ["backup.job": "\(nextJob)", "backup.path": "\(path)", "client.user": "\(caller)"])
        scheduleSlice()
        return jobs[nextJob]!
    }

    /// The caller could create the file there: it does not exist, its folder does, and the
    /// caller is root, owns the folder, or the folder is sticky and world-writable.
    private static func checkDestination(_ path: String, directory: String, caller: Caller) throws(ControlError) {
        var info = stat()
        if lstat(path, &info) == 0 || lstat(path + ".partial", &info) == 0 {
            throw ControlError(.fileExists, "backup: \(path) (or \(path).partial) exists; a backup never overwrites a file: name a new one")
        }
        guard stat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw ControlError(.badArguments, "backup: the folder \(directory) does not exist")
        }
        let mode = info.st_mode & 0o7777
        let permitted = caller.uid == 0
            || (info.st_uid == caller.uid && mode & 0o200 != 0)
            || (mode & 0o1002 == 0o1002)
        guard permitted else {
            throw ControlError(.notPermitted, """
                backup: you (\(caller.userName)) cannot create files in \(directory); the daemon writes backups only where its \
                caller could: a folder you own, or a sticky shared one such as /tmp
                """)
        }
    }

    private func scheduleSlice() {
        do {
            // Once per loop iteration, each after a full pass of the loop (IdleHandle).
            try idle?.start { [unowned self] in self.slice() }
        } catch {
            if let running { fail(running, "cannot schedule the next slice: \(error)") }
        }
    }

    /// One loop turn's worth: a slice of pages, or of ledger rows of the copy.
    private func slice() {
        guard var running, var status = jobs[running.job] else { return }
        let sliceStart = Date()
        do {
            if let backup = running.backup {
                let done = try backup.step(pages: Self.pagesPerSlice)
                status.pagesTotal = backup.totalPages
                status.pagesCopied = backup.totalPages - backup.remainingPages
                if done {
                    try backup.finish()
                    running.backup = nil
                    running.copy = try Database(path: running.partial)
                    status.state = "verifying"
                }
            } else if let copy = running.copy {
                if try running.walk.step(copy, rows: Self.rowsPerSlice) {
                    status.rowsVerified = running.walk.rowsChecked
                    guard running.walk.problem == nil else {
                        throw Failure(description: "the copy's ledger does not verify at row \(running.walk.firstBadSeq ?? 0): \(running.walk.problem ?? "?")")
                    }
                    try copy.close()
                    running.copy = nil
                    try publish(running.partial, as: status.path)
                    status.ledgerHeadSeq = Int(running.walk.last.seq)
                    status.ledgerHeadHash = running.walk.last.hash
                    status.bytes = Self.size(of: status.path)
                    status.state = "done"
                }
                status.rowsVerified = running.walk.rowsChecked
            }
        } catch {
            note(sliceStart, in: &status)
            jobs[running.job] = status
            fail(running, "\(error)")
            return
        }
        note(sliceStart, in: &status)
        jobs[running.job] = status
        if status.isFinished {
            self.running = nil
            idle?.stop()
            logger.notice("backup written and verified", metadata: [
                "backup.job": "\(running.job)", "backup.path": "\(status.path)", "pages": "\(status.pagesTotal)",
                "rows": "\(status.rowsVerified)", "slices": "\(status.slices)",
                "longest_slice_ms": "\(status.longestSliceMilliseconds)",
                "ms": "\(Int(Date().timeIntervalSince(running.started) * 1000))",
            ])
        } else {
            self.running = running  // the idle handle runs the next slice on the next iteration
        }
    }

    private func note(_ sliceStart: Date, in status: inout BackupStatus) {
        status.slices += 1
        let milliseconds = (Date().timeIntervalSince(sliceStart) * 10_000).rounded() / 10
        status.longestSliceMilliseconds = max(status.longestSliceMilliseconds, milliseconds)
    }

    private struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Makes the verified copy durable and gives it its name (never over an existing file).
    private func publish(_ partial: String, as path: String) throws {
        let fd = open(partial, O_RDONLY | O_CLOEXEC)
        guard fd >= 0, fsync(fd) == 0 else {
            let code = errno
            if fd >= 0 { Glibc.close(fd) }
            throw Failure(description: "fsync \(partial): \(String(cString: strerror(code)))")
        }
        Glibc.close(fd)
        guard link(partial, path) == 0 else {
            throw Failure(description: "link \(partial) → \(path): \(String(cString: strerror(errno)))")
        }
        unlink(partial)
        let dirFD = open((path as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)
            Glibc.close(dirFD)
        }
    }

    private func fail(_ running: Running, _ reason: String) {
        try? running.backup?.finish()
        try? running.copy?.close()
        unlink(running.partial)
        unlink(running.partial + "-journal")
        unlink(running.partial + "-wal")
        unlink(running.partial + "-shm")
        jobs[running.job]?.state = "failed"
        jobs[running.job]?.error = reason
        self.running = nil
        idle?.stop()
        logger.error("backup failed", metadata: ["backup.job": "\(running.job)", "error": "\(reason)"])
    }

    private static func size(of path: String) -> Int? {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : nil
    }
}

@available(*, unavailable)
extension BackupHandler: Sendable {}

import Foundation
import SQLiteStore
import WorkflowModel
#if canImport(Glibc)
import Glibc
#endif

/// The files of the state directory and the checks that keep their history from vanishing
/// silently: a fresh database is never created where a previous run left traces (unless
/// asked), and opening errors name the file, the real cause and what to do.
///
/// The state directory holds `state.db` (with `state.db-wal` and `state.db-shm`),
/// `huayingd.lock`, `state.runs` (one line per start, appended, so that a state directory that
/// was used shows it even when its database is gone) and `ledger-head.json` (the anchored
/// ledger head, `LedgerAnchorKeeper`).
enum StateFiles {
    /// Why the daemon will not start on this state directory.
    struct Refusal: Error, CustomStringConvertible {
        var description: String
    }

    static func runsPath(_ config: HuayingConfig) -> String {
        (config.stateDirectory as NSString).appendingPathComponent("state.runs")
    }

    /// Creates the state directory (mode 0750, whatever the umask) when it does not exist.
    static func prepareDirectory(_ config: HuayingConfig) throws {
        let path = config.stateDirectory
        var info = stat()
        guard stat(path, &info) != 0 else { return }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: nil)
        guard chmod(path, 0o750) == 0 else {
            throw Refusal(description: "cannot set the mode of state directory \(path) to 0750: \(String(cString: strerror(errno)))")
        }
    }

    /// What shows that this state directory was used before, checked before the lock file is
    /// (re)created: the lock file, the run history, the anchored ledger head.
    static func traces(_ config: HuayingConfig) -> [String] {
        [config.lockPath, runsPath(config), config.ledgerAnchorPath].filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// Whether `state.runs` records an earlier start (read before this start is appended).
    /// `state.runs` and `ledger-head.json` are written by the same start, so a directory with
    /// the one but not the other lost a file.
    static func hasEarlierRuns(_ config: HuayingConfig) -> Bool {
        var info = stat()
        return stat(runsPath(config), &info) == 0 && info.st_size > 0
    }

    /// Refuses to let SQLite create a new, empty database where a previous run's traces exist.
    ///
    /// - Parameters:
    ///   - traces: from ``traces(_:)``, taken before the lock was created.
    ///   - initState: `huayingd --init-state`: begin a new, empty history on purpose.
    /// - Returns: a notice to log when a new database is being created on purpose, else nil.
    ///   With `initState` and an existing database, nil: whether its ledger is empty (and a
    ///   new history may begin) is for `LedgerAnchorKeeper` to say once it is open.
    static func checkDatabaseBeforeOpening(_ config: HuayingConfig, traces: [String], initState: Bool) throws -> String? {
        let path = config.databasePath
        var info = stat()
        let problem: String
        if stat(path, &info) != 0 {
            problem = "is missing"
        } else if info.st_size == 0 {
            problem = "is empty (0 bytes)"
        } else {
            return nil
        }
        if initState { return "creating a new, empty state database as asked (--init-state): \(path)" }
        if traces.isEmpty { return nil }
        throw Refusal(description: """
            state database \(path) \(problem), but this state directory was used before \
            (\(traces.joined(separator: ", ")) exist); starting would silently begin an empty history \
            and lose every instance, reminder and ledger row. Restore state.db from a backup \
            (docs/operations.md, "Restoring the state database"), or, to begin a new, empty history \
            on purpose, start once with `huayingd --init-state`
            """)
    }

    /// Appends this start to `state.runs` (mode 0640).
    static func recordRun(_ config: HuayingConfig, startedAt: String) throws {
        let path = runsPath(config)
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw Refusal(description: "cannot open \(path) to record this run: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let line = Array("\(startedAt) pid \(getpid()) version \(HuayingVersion.current)\n".utf8)
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count else {
            throw Refusal(description: "cannot record this run in \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Opens the state database, leading any failure with the real cause, the path and the remedy.
    static func openDatabase(_ config: HuayingConfig, options: DatabaseOptions) throws -> Database {
        let path = config.databasePath
        let database: Database
        do {
            database = try Database(path: path, options: options)
        } catch let error as SQLiteError {
            throw Refusal(description: explain(error, path: path))
        }
        if database.isReadOnly {
            try? database.close()
            throw Refusal(description: readOnlyMessage(path))
        }
        return database
    }

    /// Words for a failure to open or migrate the state database.
    static func explain(_ error: SQLiteError, path: String) -> String {
        switch error.code {
        case 8: // SQLITE_READONLY
            return readOnlyMessage(path) + " (\(error))"
        case 11, 26: // SQLITE_CORRUPT, SQLITE_NOTADB
            return """
                state database \(path) is damaged or is not a Huaying database (\(error)). \
                Stop here: move the file aside (with its -wal and -shm files) for inspection, restore \
                state.db from a backup as docs/operations.md ("Restoring the state database") describes, \
                then start huayingd again
                """
        case 14: // SQLITE_CANTOPEN
            return """
                cannot open state database \(path) (\(error)): check that the state directory exists and \
                that the daemon's user may read and write it and the files in it (state.db, state.db-wal, state.db-shm)
                """
        default:
            return "state database \(path): \(error)"
        }
    }

    /// Words for a migration that was refused or failed (nothing of it was applied).
    static func explain(_ error: MigrationError, path: String) -> String {
        switch error {
        case .unknownMigrations:
            return """
                state database \(path) was written by a newer huayingd than this one (\(HuayingVersion.current)): \(error). \
                Install that version again, or restore a backup taken before the upgrade (docs/operations.md, "Backup and restore")
                """
        case .failed:
            return """
                state database \(path): \(error); nothing of it was kept. Fix the cause it names (a full disk, a read-only \
                file system) and start again; if it fails the same way, keep the files and report it with this line
                """
        case .duplicateName:
            return "state database \(path): \(error) (a bug in this huayingd: report it)"
        }
    }

    static func readOnlyMessage(_ path: String) -> String {
        """
        state database \(path) is read-only for huayingd (uid \(getuid())): it cannot record anything. \
        Make the file and its -wal and -shm files writable by the daemon's user (e.g. \
        `chown huaying: \(path)*; chmod 0640 \(path)*`), or remount the file system read-write, then start again
        """
    }
}

/// Notices when `state.db` or its WAL is deleted or replaced while the daemon runs.
///
/// SQLite keeps writing into the open (possibly unlinked) file and reports success, so nothing
/// else would notice: a deleted database loses everything at the next start, a deleted WAL the
/// confirmed work since the last checkpoint. Each file's device and inode are recorded when
/// first seen; a later `stat` that fails or finds another file means the state is lost.
struct StateFileWatch {
    private struct Identity: Equatable {
        var device: UInt64
        var inode: UInt64
    }

    let paths: [String]
    private var identities: [String: Identity] = [:]

    init(databasePath: String) {
        paths = [databasePath, databasePath + "-wal"]
        _ = check()
    }

    /// What happened to the files, or nil while they are the ones first seen.
    mutating func check() -> String? {
        for path in paths {
            var info = stat()
            let known = identities[path]
            guard stat(path, &info) == 0 else {
                if known != nil { return "\(path) was deleted while huayingd was running" }
                continue
            }
            let identity = Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
            if let known, known != identity {
                return "\(path) was replaced by another file while huayingd was running"
            }
            identities[path] = identity
        }
        return nil
    }
}

internal import CSQLite

/// An online backup of a live database into a new file (`sqlite3_backup_*`), copied a slice
/// of pages at a time so the thread that owns the source is never held for long.
///
/// ```swift
/// let backup = try Backup(from: db, to: "/var/backups/huaying/state-2026-12-01.db")
/// while try !backup.step(pages: 256) { /* let the loop run */ }
/// try backup.finish()
/// ```
///
/// Writes made through the source connection between slices are copied as well (SQLite
/// updates the backup in place), so the copy is consistent as of the last slice whatever the
/// daemon did in between. A write by another connection restarts the copy.
///
/// - Important: Use only on the source database's thread; the source must stay open until
///   ``finish()`` (or until the backup is released).
///
/// See <https://www.sqlite.org/backup.html> and <https://www.sqlite.org/c3ref/backup_finish.html>.
public final class Backup {
    /// The file being written.
    public let destinationPath: String
    private let source: Database
    private var destination: OpaquePointer?
    private var handle: OpaquePointer?

    /// Opens (creating) the destination and starts the backup of the source's `main` database.
    /// - Throws: ``SQLiteError`` naming the destination when it cannot be opened or the backup
    ///   cannot start (e.g. the destination is in use).
    public init(from source: Database, to path: String) throws {
        self.source = source
        destinationPath = path
        var connection: OpaquePointer?
        let rc = sqlite3_open_v2(path, &connection, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let connection else {
            let error = SQLiteError(connection: connection, resultCode: rc, sql: nil, operation: "opening the backup file \(path)")
            sqlite3_close(connection)
            throw error
        }
        destination = connection
        guard let backup = sqlite3_backup_init(connection, "main", try source.liveConnection(), "main") else {
            let error = SQLiteError(connection: connection, resultCode: sqlite3_errcode(connection), sql: nil,
                                    operation: "sqlite3_backup_init into \(path)")
            sqlite3_close(connection)
            destination = nil
            throw error
        }
        handle = backup
    }

    /// Copies up to `pages` more pages (`sqlite3_backup_step`).
    /// - Returns: true when every page is copied; false when there is more (or the source was
    ///   busy: try again on a later turn).
    /// - Throws: ``SQLiteError`` for a failure that ends the backup (disk full, I/O error).
    public func step(pages: Int32) throws -> Bool {
        guard let handle else { return true }
        let rc = sqlite3_backup_step(handle, pages)
        switch rc & 0xff {
        case SQLITE_DONE: return true
        case SQLITE_OK, SQLITE_BUSY, SQLITE_LOCKED: return false
        default:
            throw SQLiteError(connection: destination, resultCode: rc, sql: nil, operation: "sqlite3_backup_step into \(destinationPath)")
        }
    }

    /// Pages the source has, as of the last ``step(pages:)`` (0 before the first).
    public var totalPages: Int { handle.map { Int(sqlite3_backup_pagecount($0)) } ?? 0 }

    /// Pages still to copy, as of the last ``step(pages:)``.
    public var remainingPages: Int { handle.map { Int(sqlite3_backup_remaining($0)) } ?? 0 }

    /// Ends the backup (`sqlite3_backup_finish`) and closes the destination (idempotent).
    /// - Throws: ``SQLiteError`` when the backup had failed or the destination does not close.
    public func finish() throws {
        if let handle {
            self.handle = nil
            let rc = sqlite3_backup_finish(handle)
            if rc != SQLITE_OK {
                let error = SQLiteError(connection: destination, resultCode: rc, sql: nil, operation: "sqlite3_backup_finish into \(destinationPath)")
                sqlite3_close(destination)
                destination = nil
                throw error
            }
        }
        if let destination {
            self.destination = nil
            let rc = sqlite3_close(destination)
            guard rc == SQLITE_OK else {
                throw SQLiteError(extendedCode: rc, message: "cannot close", sql: nil, operation: "closing the backup file \(destinationPath)")
            }
        }
    }

    deinit {
        if let handle { sqlite3_backup_finish(handle) }
        if let destination { sqlite3_close(destination) }
    }
}

@available(*, unavailable)
extension Backup: Sendable {}

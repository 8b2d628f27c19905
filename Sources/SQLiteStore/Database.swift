internal import CSQLite

/// One SQLite connection (`sqlite3*`), configured for the daemon: WAL, extended result codes,
/// a busy timeout, `synchronous` from the options and foreign keys on.
///
/// ```swift
/// let db = try Database(path: "/var/lib/huaying/state.db")
/// try db.transaction {
///     try db.execute("UPDATE step SET state = ? WHERE id = ?", ["done", .init(stepID)])
///     try db.execute("INSERT INTO ledger (instance_id, text) VALUES (?, ?)", [.init(instanceID), "选民名单已公布"])
/// }
/// let due = try db.query("SELECT id, due_at FROM step WHERE due_at <= ?", [.init(now)])
/// ```
///
/// Statements built from the same SQL text by ``execute(_:_:)``, ``query(_:_:)``,
/// ``queryOne(_:_:)`` and ``cachedStatement(_:)`` are prepared once and reused.
///
/// - Important: A `Database`, its ``Statement``s and ``Migrator``s belong to the thread that
///   created them (the event-loop thread) and are not `Sendable`; the connection is opened with
///   `SQLITE_OPEN_NOMUTEX`, so SQLite does not serialize access either.
///
/// See <https://www.sqlite.org/c3ref/sqlite3.html> and <https://www.sqlite.org/wal.html>.
public final class Database {
    /// The path given to ``init(path:options:)``.
    public let path: String
    /// The options the connection was opened with.
    public let options: DatabaseOptions

    /// `nil` once closed.
    private var connection: OpaquePointer?
    private var statementCache: [String: Statement] = [:]
    private var savepointDepth = 0

    /// Opens (creating unless read-only) and configures the database at `path`.
    ///
    /// Runs `sqlite3_open_v2`, turns on extended result codes, sets the busy timeout, then
    /// `PRAGMA journal_mode=WAL` (the result must be `wal`, except for `":memory:"`; read-only:
    /// `PRAGMA journal_mode`),
    /// `PRAGMA synchronous` and `PRAGMA foreign_keys=ON`.
    ///
    /// - Parameters:
    ///   - path: A file path, or `":memory:"` for a private in-memory database (tests). URIs are
    ///     not interpreted.
    ///   - options: Durability, busy timeout, read-only.
    /// - Throws: ``SQLiteError`` naming the path when the file cannot be opened, or the failing
    ///   pragma; ``SQLiteError`` with code 1 when the database is not in WAL mode afterwards (a
    ///   read-only connection only checks the mode, so it refuses a file not yet in WAL mode).
    /// - Important: Use the returned connection only on the thread that opened it.
    ///
    /// See <https://www.sqlite.org/c3ref/open.html>, <https://www.sqlite.org/wal.html>,
    /// <https://www.sqlite.org/pragma.html#pragma_synchronous> and
    /// <https://www.sqlite.org/foreignkeys.html>.
    public init(path: String, options: DatabaseOptions = .init()) throws {
        self.path = path
        self.options = options

        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        flags |= options.readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        var handle: OpaquePointer?
        _ = Self.configureLibraryOnce
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let error = SQLiteError(connection: handle, resultCode: rc, sql: nil, operation: "opening \(path)")
            // Even a failed open allocates a handle (unless out of memory); release it.
            sqlite3_close(handle)
            throw error
        }
        connection = handle

        do {
            try configure(handle)
        } catch {
            try? close()
            throw error
        }
    }

    /// Library-wide settings, applied before the first connection opens (see CSQLite.h).
    private static let configureLibraryOnce: Void = {
        _ = csqlite_disable_memory_statistics()
    }()

    private func configure(_ handle: OpaquePointer) throws {
        sqlite3_extended_result_codes(handle, 1)
        let rc = sqlite3_busy_timeout(handle, options.busyTimeoutMilliseconds)
        guard rc == SQLITE_OK else {
            throw SQLiteError(connection: handle, resultCode: rc, sql: nil, operation: "setting the busy timeout of \(path)")
        }

        // A read-only connection cannot switch modes (SQLITE_READONLY): it only checks.
        let walSQL = options.readOnly ? "PRAGMA journal_mode" : "PRAGMA journal_mode=WAL"
        let mode = try prepare(walSQL).queryOne()?.values.first
        if path != ":memory:" && mode != .text("wal") {
            let found = if case .text(let text)? = mode { text } else { "unknown" }
            let hint = options.readOnly ? "; open it read-write once to switch it to WAL" : ""
            throw SQLiteError(extendedCode: SQLITE_ERROR, message: "journal_mode is \(found), not wal\(hint)", sql: walSQL)
        }
        try execute("PRAGMA synchronous=\(options.synchronous.rawValue); PRAGMA foreign_keys=ON")
    }

    deinit {
        // Statements that are not cached retain the database, so none is alive here and
        // sqlite3_close succeeds.
        try? close()
    }

    // MARK: Executing SQL

    /// Runs one or more `;`-separated statements that take no parameters (schema scripts,
    /// pragmas, `BEGIN`/`COMMIT`).
    ///
    /// Statements run one after the other; the first failure stops the script (earlier
    /// statements keep their effect unless a transaction around them rolls back).
    ///
    /// - Parameter sql: The script.
    /// - Throws: ``SQLiteError`` with the text of the statement that failed (for a syntax error,
    ///   the script from the failing statement on); code 25 (`SQLITE_RANGE`) for a statement
    ///   with parameters, which would otherwise run with NULLs.
    /// - Important: Call only on the database's thread.
    public func execute(_ sql: String) throws {
        let connection = try liveConnection()
        try sql.withCString { start in
            var cursor = start
            while cursor.pointee != 0 {
                var handle: OpaquePointer?
                var tail: UnsafePointer<CChar>?
                let rc = sqlite3_prepare_v2(connection, cursor, -1, &handle, &tail)
                guard rc == SQLITE_OK else {
                    throw SQLiteError(connection: connection, resultCode: rc, sql: Self.trimmed(String(cString: cursor)))
                }
                guard let handle else { break }  // only whitespace or comments were left
                defer { sqlite3_finalize(handle) }
                let parameters = sqlite3_bind_parameter_count(handle)
                guard parameters == 0 else {
                    throw SQLiteError(
                        extendedCode: SQLITE_RANGE,
                        message: "statement has \(parameters) parameter\(parameters == 1 ? "" : "s"); pass arguments with execute(_:_:)",
                        sql: String(cString: sqlite3_sql(handle))
                    )
                }
                var step = sqlite3_step(handle)
                while step == SQLITE_ROW { step = sqlite3_step(handle) }
                guard step == SQLITE_DONE else {
                    throw SQLiteError(connection: connection, resultCode: step, sql: String(cString: sqlite3_sql(handle)))
                }
                guard let tail, tail != cursor else { break }
                cursor = tail
            }
        }
    }

    /// Runs one statement with `?` parameters, through the statement cache.
    ///
    /// - Parameters:
    ///   - sql: One statement.
    ///   - arguments: One value per parameter, in order.
    /// - Throws: ``SQLiteError`` with the statement text (never the arguments); code 25
    ///   (`SQLITE_RANGE`) when the argument count does not match.
    /// - Important: Call only on the database's thread.
    public func execute(_ sql: String, _ arguments: [SQLiteValue]) throws {
        try cachedStatement(sql).execute(arguments)
    }

    /// Runs one query through the statement cache and returns all its rows, copied.
    ///
    /// - Parameters:
    ///   - sql: One statement.
    ///   - arguments: One value per parameter, in order.
    /// - Returns: The rows, in the order SQLite returned them.
    /// - Throws: ``SQLiteError`` with the statement text.
    /// - Important: Call only on the database's thread.
    public func query(_ sql: String, _ arguments: [SQLiteValue] = []) throws -> [Row] {
        try cachedStatement(sql).query(arguments)
    }

    /// Runs one query through the statement cache and returns its first row, if any.
    ///
    /// Other rows are not read (add `LIMIT 1` when the query may return many).
    ///
    /// - Parameters:
    ///   - sql: One statement.
    ///   - arguments: One value per parameter, in order.
    /// - Returns: The first row, or `nil` when there is none.
    /// - Throws: ``SQLiteError`` with the statement text.
    /// - Important: Call only on the database's thread.
    public func queryOne(_ sql: String, _ arguments: [SQLiteValue] = []) throws -> Row? {
        try cachedStatement(sql).queryOne(arguments)
    }

    // MARK: Statements

    /// Prepares a new statement that is not cached.
    ///
    /// The statement keeps this database alive until it is released or finalized; ``close()``
    /// fails with `SQLITE_BUSY` while it exists.
    ///
    /// - Parameter sql: Exactly one statement (trailing `;`, whitespace and comments are fine).
    /// - Returns: The prepared statement.
    /// - Throws: ``SQLiteError`` naming the SQL: a syntax or schema error, or `SQLITE_MISUSE`
    ///   (21) for empty SQL or more than one statement.
    /// - Important: Call only on the database's thread.
    ///
    /// See <https://www.sqlite.org/c3ref/prepare.html>.
    public func prepare(_ sql: String) throws -> Statement {
        try makeStatement(sql, persistent: false)
    }

    /// Returns the statement cached for this exact SQL text, preparing it the first time.
    ///
    /// Before it is returned, the statement is reset and its bindings cleared. The same object is
    /// returned for the same text until ``close()``; do not keep it across a ``close()``.
    ///
    /// - Parameter sql: Exactly one statement; the cache key is the text as given.
    /// - Returns: The cached statement, ready to bind.
    /// - Throws: ``SQLiteError`` naming the SQL, as ``prepare(_:)``.
    /// - Important: Call only on the database's thread.
    public func cachedStatement(_ sql: String) throws -> Statement {
        if let statement = statementCache[sql], statement.isPrepared {
            statement.reset()
            return statement
        }
        let statement = try makeStatement(sql, persistent: true)
        statementCache[sql] = statement
        return statement
    }

    private func makeStatement(_ sql: String, persistent: Bool) throws -> Statement {
        let connection = try liveConnection()
        let flags = persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        let handle: OpaquePointer? = try sql.withCString { start in
            var handle: OpaquePointer?
            var tail: UnsafePointer<CChar>?
            let rc = sqlite3_prepare_v3(connection, start, -1, flags, &handle, &tail)
            guard rc == SQLITE_OK else {
                throw SQLiteError(connection: connection, resultCode: rc, sql: sql)
            }
            if let tail, tail.pointee != 0 {
                // Only whitespace and comments may follow: preparing them must yield no statement.
                var extra: OpaquePointer?
                let extraRC = sqlite3_prepare_v2(connection, tail, -1, &extra, nil)
                sqlite3_finalize(extra)
                if extraRC != SQLITE_OK || extra != nil {
                    sqlite3_finalize(handle)
                    throw SQLiteError.misuse("more than one statement; use execute(_:) for scripts", sql: sql)
                }
            }
            return handle
        }
        guard let handle else {
            throw SQLiteError.misuse("no statement in SQL", sql: sql)
        }
        return Statement(handle: handle, sql: sql, retaining: persistent ? nil : self)
    }

    // MARK: Transactions

    /// Runs `body` in a transaction: `BEGIN IMMEDIATE` … `COMMIT`, or `ROLLBACK` and rethrow when
    /// `body` throws. Inside another transaction, runs `body` in a `SAVEPOINT` instead, so that a
    /// throwing inner body undoes only its own changes.
    ///
    /// `IMMEDIATE` takes the write lock up front, so a busy database fails at `BEGIN` (after the
    /// busy timeout) rather than halfway through. A read-only connection uses `BEGIN DEFERRED`.
    ///
    /// ```swift
    /// try db.transaction {
    ///     try db.execute("UPDATE reminder SET acked_at = ? WHERE id = ?", [.init(now), .init(id)])
    ///     try db.execute("DELETE FROM timer WHERE reminder_id = ?", [.init(id)])
    /// }
    /// ```
    ///
    /// - Parameter body: The work; its `throw` rolls back. Do not run `BEGIN`, `COMMIT` or
    ///   `ROLLBACK` yourself inside it.
    /// - Returns: What `body` returns.
    /// - Throws: The error `body` threw (after rolling back), or ``SQLiteError`` when `BEGIN`,
    ///   `SAVEPOINT`, `COMMIT` or `RELEASE` fails; a failed `COMMIT` is rolled back.
    /// - Important: Call only on the database's thread.
    ///
    /// See <https://www.sqlite.org/lang_transaction.html> and
    /// <https://www.sqlite.org/lang_savepoint.html>.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        let connection = try liveConnection()
        if sqlite3_get_autocommit(connection) == 0 {
            return try savepoint(connection, body)
        }
        try cachedStatement(options.readOnly ? "BEGIN DEFERRED" : "BEGIN IMMEDIATE").execute()
        let result: T
        do {
            result = try body()
            try cachedStatement("COMMIT").execute()
        } catch {
            // SQLite may already have rolled back by itself (e.g. after SQLITE_FULL).
            if sqlite3_get_autocommit(connection) == 0 {
                try? cachedStatement("ROLLBACK").execute()
            }
            throw error
        }
        return result
    }

    private func savepoint<T>(_ connection: OpaquePointer, _ body: () throws -> T) throws -> T {
        savepointDepth += 1
        defer { savepointDepth -= 1 }
        let name = "sqlitestore_\(savepointDepth)"
        try cachedStatement("SAVEPOINT \(name)").execute()
        let result: T
        do {
            result = try body()
        } catch {
            if sqlite3_get_autocommit(connection) == 0 {
                try? cachedStatement("ROLLBACK TO SAVEPOINT \(name)").execute()
                try? cachedStatement("RELEASE SAVEPOINT \(name)").execute()
            }
            throw error
        }
        try cachedStatement("RELEASE SAVEPOINT \(name)").execute()
        return result
    }

    /// Whether a transaction is open (SQLite is not in autocommit mode).
    ///
    /// See <https://www.sqlite.org/c3ref/get_autocommit.html>.
    public var isInTransaction: Bool {
        guard let connection else { return false }
        return sqlite3_get_autocommit(connection) == 0
    }

    // MARK: Connection state

    /// The rowid of the last successful `INSERT` on this connection (0 if none, or closed).
    ///
    /// See <https://www.sqlite.org/c3ref/last_insert_rowid.html>.
    public var lastInsertRowID: Int64 {
        guard let connection else { return 0 }
        return sqlite3_last_insert_rowid(connection)
    }

    /// Rows changed by the last `INSERT`, `UPDATE` or `DELETE` on this connection (0 if closed).
    ///
    /// See <https://www.sqlite.org/c3ref/changes.html>.
    public var changes: Int {
        guard let connection else { return 0 }
        return Int(sqlite3_changes64(connection))
    }

    /// Reads a pragma: the first column of the first row of `PRAGMA name`.
    ///
    /// `pragma("synchronous")` is `.integer(2)` for FULL, `pragma("journal_mode")` is
    /// `.text("wal")`.
    ///
    /// - Parameter name: A pragma name, optionally schema-qualified (`main.journal_mode`).
    /// - Returns: The value, or `nil` when the pragma returns no row.
    /// - Throws: ``SQLiteError``; `SQLITE_MISUSE` (21) when `name` is not an identifier.
    /// - Important: Call only on the database's thread.
    ///
    /// See <https://www.sqlite.org/pragma.html>.
    public func pragma(_ name: String) throws -> SQLiteValue? {
        let isIdentifier = !name.isEmpty && name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || scalar.properties.numericType != nil
                || scalar == "_" || scalar == ".")
        }
        guard isIdentifier else {
            throw SQLiteError.misuse("not a pragma name", sql: "PRAGMA \(name)")
        }
        let row = try prepare("PRAGMA \(name)").queryOne()
        return row?.values.first
    }

    // MARK: Closing

    /// Finalizes the cached statements and closes the connection with `sqlite3_close`.
    ///
    /// Closing an already closed database does nothing. After closing, every call throws
    /// `SQLITE_MISUSE` (21) "database is closed". An open transaction is rolled back by SQLite.
    ///
    /// - Throws: ``SQLiteError`` with code 5 (`SQLITE_BUSY`, "unable to close due to unfinalized
    ///   statements") while a statement from ``prepare(_:)`` is still alive; the connection then
    ///   stays open and usable, and `close()` can be called again once the statement is gone
    ///   (released or ``Statement/finalize()``d).
    /// - Important: Call only on the database's thread.
    ///
    /// See <https://www.sqlite.org/c3ref/close.html>.
    public func close() throws {
        guard let connection else { return }
        for statement in statementCache.values {
            statement.finalize()
        }
        statementCache.removeAll()
        let rc = sqlite3_close(connection)
        guard rc == SQLITE_OK else {
            throw SQLiteError(connection: connection, resultCode: rc, sql: nil, operation: "closing \(path)")
        }
        self.connection = nil
    }

    /// Makes the statement running on this connection stop at its next opportunity with
    /// `SQLITE_INTERRUPT` (`sqlite3_interrupt`), from any thread: how a long read on a worker
    /// thread is called off when the daemon stops.
    ///
    /// - Important: The only method that may be called from another thread, and only while the
    ///   connection is certainly open (the caller serializes it with ``close()``).
    public func interrupt() {
        if let connection { sqlite3_interrupt(connection) }
    }

    /// Whether ``close()`` has succeeded.
    public var isClosed: Bool { connection == nil }

    /// Whether the main database can only be read (`sqlite3_db_readonly`): opened read-only, or
    /// opened read-write on a file SQLite could not open for writing (a read-only file or file
    /// system), which SQLite does silently; the first write then fails with `SQLITE_READONLY`.
    ///
    /// Closed connections answer `true`.
    ///
    /// See <https://www.sqlite.org/c3ref/db_readonly.html>.
    public var isReadOnly: Bool {
        guard let connection else { return true }
        return sqlite3_db_readonly(connection, "main") == 1
    }

    // MARK: Helpers

    func liveConnection() throws -> OpaquePointer {  // internal: Backup.swift needs the source connection
        guard let connection else {
            throw SQLiteError.misuse("database is closed", operation: "using \(path)")
        }
        return connection
    }

    private static func trimmed(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}

@available(*, unavailable)
extension Database: Sendable {}

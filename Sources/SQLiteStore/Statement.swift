internal import CSQLite

/// A prepared statement (`sqlite3_stmt*`), finalized when released.
///
/// Get one from ``Database/prepare(_:)`` (a new statement, which keeps its database alive) or
/// ``Database/cachedStatement(_:)`` (owned by the database's cache and finalized by
/// ``Database/close()``; using it afterwards throws `SQLITE_MISUSE`).
///
/// Arguments are bound by position. ``execute(_:)``, ``query(_:)`` and ``queryOne(_:)`` with
/// arguments bind them first; with no arguments they use what ``bind(_:)`` bound before, and
/// throw `SQLITE_RANGE` if the statement has parameters that were never bound. Every run ends
/// with `sqlite3_reset`, so no statement holds a read transaction open between calls.
///
/// - Important: Use a statement only on its database's thread; it is not `Sendable`.
///
/// See <https://www.sqlite.org/c3ref/stmt.html>.
public final class Statement {
    /// The SQL text the statement was prepared from.
    public let sql: String

    /// `nil` once finalized.
    private var handle: OpaquePointer?
    /// Set for statements outside the cache, so the connection outlives them.
    private var database: Database?
    /// Whether the current bindings came from `bind(_:)` (and were not cleared since).
    private var isBound = false

    init(handle: OpaquePointer, sql: String, retaining database: Database?) {
        self.handle = handle
        self.sql = sql
        self.database = database
    }

    deinit {
        sqlite3_finalize(handle)
    }

    /// Whether the statement can still run (not finalized).
    public var isPrepared: Bool { handle != nil }

    /// The number of `?` (or named) parameters.
    public var parameterCount: Int {
        guard let handle else { return 0 }
        return Int(sqlite3_bind_parameter_count(handle))
    }

    /// The names of the result columns (empty for statements that return no rows).
    public var columnNames: [String] {
        guard let handle else { return [] }
        return Self.columnNames(of: handle)
    }

    /// Clears the current bindings and binds `arguments`, one per parameter, in order.
    ///
    /// - Parameter arguments: Exactly ``parameterCount`` values.
    /// - Throws: ``SQLiteError`` with the statement's SQL (never the values): code 25
    ///   (`SQLITE_RANGE`) when the count is wrong, 18 (`SQLITE_TOOBIG`) for a text or blob
    ///   over 2 GiB, 21 (`SQLITE_MISUSE`) once finalized.
    /// - Important: Call only on the database's thread.
    ///
    /// See <https://www.sqlite.org/c3ref/bind_blob.html>.
    public func bind(_ arguments: [SQLiteValue]) throws {
        let handle = try liveHandle()
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        isBound = false
        let expected = Int(sqlite3_bind_parameter_count(handle))
        guard arguments.count == expected else {
            throw SQLiteError(
                extendedCode: SQLITE_RANGE,
                message: "statement has \(expected) parameter\(expected == 1 ? "" : "s"), \(arguments.count) argument\(arguments.count == 1 ? "" : "s") given",
                sql: sql
            )
        }
        for (offset, value) in arguments.enumerated() {
            let rc = Self.bind(value, to: handle, at: Int32(offset + 1))
            guard rc == SQLITE_OK else {
                sqlite3_clear_bindings(handle)
                throw SQLiteError(connection: sqlite3_db_handle(handle), resultCode: rc, sql: sql)
            }
        }
        isBound = true
    }

    /// Binds `arguments` (if any), steps until done, and resets; rows a statement returns are
    /// discarded.
    ///
    /// - Parameter arguments: One value per parameter; empty to use the values of ``bind(_:)``.
    /// - Throws: ``SQLiteError`` with the statement's SQL.
    /// - Important: Call only on the database's thread.
    ///
    /// See <https://www.sqlite.org/c3ref/step.html>.
    public func execute(_ arguments: [SQLiteValue] = []) throws {
        let handle = try prepareToRun(arguments)
        defer { sqlite3_reset(handle) }
        while try step(handle) {}
    }

    /// Binds `arguments` (if any), reads every row, and resets.
    ///
    /// - Parameter arguments: One value per parameter; empty to use the values of ``bind(_:)``.
    /// - Returns: The rows, copied.
    /// - Throws: ``SQLiteError`` with the statement's SQL.
    /// - Important: Call only on the database's thread.
    public func query(_ arguments: [SQLiteValue] = []) throws -> [Row] {
        let handle = try prepareToRun(arguments)
        defer { sqlite3_reset(handle) }
        let names = Self.columnNames(of: handle)
        var rows: [Row] = []
        while try step(handle) {
            rows.append(Row(columnNames: names, values: Self.values(of: handle, count: names.count), sql: sql))
        }
        return rows
    }

    /// Binds `arguments` (if any) and hands each row's integer columns to `body` without copying
    /// the rows: for scans over many rows (the engine's start-up schedule). A NULL reads as nil.
    ///
    /// - Throws: ``SQLiteError`` with the statement's SQL, or what `body` throws.
    /// - Important: Call only on the database's thread.
    public func scanIntegers(_ arguments: [SQLiteValue] = [], _ body: (_ column: (Int32) -> Int64?) throws -> Void) throws {
        let handle = try prepareToRun(arguments)
        defer { sqlite3_reset(handle) }
        while try step(handle) {
            try body { index in
                sqlite3_column_type(handle, index) == SQLITE_NULL ? nil : sqlite3_column_int64(handle, index)
            }
        }
    }

    /// Binds `arguments` (if any), reads the first row, and resets.
    ///
    /// - Parameter arguments: One value per parameter; empty to use the values of ``bind(_:)``.
    /// - Returns: The first row, or `nil` when there is none.
    /// - Throws: ``SQLiteError`` with the statement's SQL.
    /// - Important: Call only on the database's thread.
    public func queryOne(_ arguments: [SQLiteValue] = []) throws -> Row? {
        let handle = try prepareToRun(arguments)
        defer { sqlite3_reset(handle) }
        guard try step(handle) else { return nil }
        let names = Self.columnNames(of: handle)
        return Row(columnNames: names, values: Self.values(of: handle, count: names.count), sql: sql)
    }

    /// Resets the statement (`sqlite3_reset`) and clears its bindings (`sqlite3_clear_bindings`).
    ///
    /// Does nothing once finalized.
    ///
    /// - Important: Call only on the database's thread.
    ///
    /// See <https://www.sqlite.org/c3ref/reset.html>.
    public func reset() {
        guard let handle else { return }
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        isBound = false
    }

    /// Finalizes the statement now (`sqlite3_finalize`) instead of when it is released, and lets
    /// go of its database. Later calls throw `SQLITE_MISUSE`; finalizing twice does nothing.
    ///
    /// - Important: Call only on the database's thread.
    ///
    /// See <https://www.sqlite.org/c3ref/finalize.html>.
    public func finalize() {
        if let handle {
            sqlite3_finalize(handle)
            self.handle = nil
        }
        isBound = false
        database = nil
    }

    // MARK: Helpers

    private func liveHandle() throws -> OpaquePointer {
        guard let handle else {
            throw SQLiteError.misuse("statement is finalized (its database was closed?)", sql: sql)
        }
        return handle
    }

    private func prepareToRun(_ arguments: [SQLiteValue]) throws -> OpaquePointer {
        let handle = try liveHandle()
        if !arguments.isEmpty || !isBound {
            try bind(arguments)
        } else {
            sqlite3_reset(handle)
        }
        return handle
    }

    /// Steps once: `true` for a row, `false` when done.
    private func step(_ handle: OpaquePointer) throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let rc: throw SQLiteError(connection: sqlite3_db_handle(handle), resultCode: rc, sql: sql)
        }
    }

    private static func bind(_ value: SQLiteValue, to handle: OpaquePointer, at index: Int32) -> Int32 {
        switch value {
        case .null:
            return sqlite3_bind_null(handle, index)
        case .integer(let integer):
            return sqlite3_bind_int64(handle, index, integer)
        case .real(let real):
            return sqlite3_bind_double(handle, index, real)
        case .text(var text):
            return text.withUTF8 { bytes in
                guard bytes.count <= Int32.max else { return SQLITE_TOOBIG }
                // A nil pointer would bind NULL, so an empty string gets a real (empty) one.
                guard let base = bytes.baseAddress, !bytes.isEmpty else {
                    return "".withCString { csqlite_bind_text_transient(handle, index, $0, 0) }
                }
                return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                    csqlite_bind_text_transient(handle, index, $0, Int32(bytes.count))
                }
            }
        case .blob(let blob):
            return blob.withUnsafeBytes { bytes in
                guard bytes.count <= Int32.max else { return SQLITE_TOOBIG }
                // A nil pointer would bind NULL, so an empty blob is bound as a zero-length blob.
                guard let base = bytes.baseAddress, !bytes.isEmpty else {
                    return sqlite3_bind_zeroblob(handle, index, 0)
                }
                return csqlite_bind_blob_transient(handle, index, base, Int32(bytes.count))
            }
        }
    }

    private static func columnNames(of handle: OpaquePointer) -> [String] {
        (0..<sqlite3_column_count(handle)).map { column in
            sqlite3_column_name(handle, column).map { String(cString: $0) } ?? ""
        }
    }

    private static func values(of handle: OpaquePointer, count: Int) -> [SQLiteValue] {
        (0..<Int32(count)).map { column in
            switch sqlite3_column_type(handle, column) {
            case SQLITE_INTEGER:
                return .integer(sqlite3_column_int64(handle, column))
            case SQLITE_FLOAT:
                return .real(sqlite3_column_double(handle, column))
            case SQLITE_TEXT:
                // Pointer first, then the byte count, as the SQLite docs require.
                guard let text = sqlite3_column_text(handle, column) else { return .text("") }
                let count = Int(sqlite3_column_bytes(handle, column))
                return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
            case SQLITE_BLOB:
                guard let blob = sqlite3_column_blob(handle, column) else { return .blob([]) }
                let count = Int(sqlite3_column_bytes(handle, column))
                return .blob(Array(UnsafeRawBufferPointer(start: blob, count: count)))
            default:
                return .null
            }
        }
    }
}

@available(*, unavailable)
extension Statement: Sendable {}

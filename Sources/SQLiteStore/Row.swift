/// One result row, copied out of SQLite: it stays valid after the statement moves on or the
/// database closes.
///
/// Read columns by name with the throwing accessors (``int(_:)``, ``text(_:)``, …), which say
/// which column was missing or of which wrong type; or look at ``values`` directly.
///
/// ```swift
/// let row = try db.queryOne("SELECT id, due_at, note FROM step WHERE id = ?", [.init(id)])
/// let due = try row?.int("due_at")
/// let note = try row?.optionalText("note")
/// ```
///
/// Column names match exactly first, then ignoring ASCII case (as SQLite does); with duplicate
/// names the leftmost column wins, so alias them in SQL (`SELECT a.id AS a_id, b.id AS b_id`).
/// A `Row` is a plain value and is `Sendable`.
public struct Row: Sendable {
    /// The result column names, in order.
    public let columnNames: [String]
    /// The values, in column order.
    public let values: [SQLiteValue]
    /// The statement the row came from, for error messages.
    let sql: String?

    init(columnNames: [String], values: [SQLiteValue], sql: String?) {
        self.columnNames = columnNames
        self.values = values
        self.sql = sql
    }

    /// The number of columns.
    public var count: Int { values.count }

    /// The value in column `index` (0-based).
    ///
    /// - Precondition: `index` is in `0..<count`, as for an `Array`.
    public subscript(_ index: Int) -> SQLiteValue {
        precondition(values.indices.contains(index), "column index \(index) out of range 0..<\(values.count)")
        return values[index]
    }

    /// The value in the named column, or ``SQLiteValue/null`` when there is no such column.
    ///
    /// Prefer ``value(_:)`` and the typed accessors, which tell a missing column from a NULL.
    public subscript(_ column: String) -> SQLiteValue {
        index(of: column).map { values[$0] } ?? .null
    }

    /// The index of the named column, or `nil`.
    public func index(of column: String) -> Int? {
        columnNames.firstIndex(of: column)
            ?? columnNames.firstIndex { $0.lowercased() == column.lowercased() }
    }

    /// The value in the named column.
    ///
    /// - Throws: ``ColumnError`` when the row has no such column.
    public func value(_ column: String) throws -> SQLiteValue {
        guard let index = index(of: column) else {
            throw ColumnError(column: column, problem: .missing(available: columnNames), sql: sql)
        }
        return values[index]
    }

    /// The named INTEGER column.
    ///
    /// - Throws: ``ColumnError`` when the column is missing or not an INTEGER (NULL included).
    public func int(_ column: String) throws -> Int64 {
        guard let value = try optionalInt(column) else { throw mismatch(column, .integer, found: .null) }
        return value
    }

    /// The named INTEGER column, `nil` for NULL.
    ///
    /// - Throws: ``ColumnError`` when the column is missing or of another type.
    public func optionalInt(_ column: String) throws -> Int64? {
        switch try value(column) {
        case .null: return nil
        case .integer(let integer): return integer
        case let other: throw mismatch(column, .integer, found: other.storageClass)
        }
    }

    /// The named INTEGER column read as a boolean (0 is `false`, anything else `true`).
    ///
    /// - Throws: ``ColumnError`` when the column is missing or not an INTEGER (NULL included).
    public func bool(_ column: String) throws -> Bool {
        try int(column) != 0
    }

    /// The named REAL column; an INTEGER is converted.
    ///
    /// - Throws: ``ColumnError`` when the column is missing or not a number (NULL included).
    public func double(_ column: String) throws -> Double {
        guard let value = try optionalDouble(column) else { throw mismatch(column, .real, found: .null) }
        return value
    }

    /// The named REAL column, `nil` for NULL; an INTEGER is converted.
    ///
    /// - Throws: ``ColumnError`` when the column is missing or not a number.
    public func optionalDouble(_ column: String) throws -> Double? {
        switch try value(column) {
        case .null: return nil
        case .real(let real): return real
        case .integer(let integer): return Double(integer)
        case let other: throw mismatch(column, .real, found: other.storageClass)
        }
    }

    /// The named TEXT column.
    ///
    /// - Throws: ``ColumnError`` when the column is missing or not TEXT (NULL included).
    public func text(_ column: String) throws -> String {
        guard let value = try optionalText(column) else { throw mismatch(column, .text, found: .null) }
        return value
    }

    /// The named TEXT column, `nil` for NULL.
    ///
    /// - Throws: ``ColumnError`` when the column is missing or of another type.
    public func optionalText(_ column: String) throws -> String? {
        switch try value(column) {
        case .null: return nil
        case .text(let text): return text
        case let other: throw mismatch(column, .text, found: other.storageClass)
        }
    }

    /// The named BLOB column.
    ///
    /// - Throws: ``ColumnError`` when the column is missing or not a BLOB (NULL included).
    public func blob(_ column: String) throws -> [UInt8] {
        guard let value = try optionalBlob(column) else { throw mismatch(column, .blob, found: .null) }
        return value
    }

    /// The named BLOB column, `nil` for NULL.
    ///
    /// - Throws: ``ColumnError`` when the column is missing or of another type.
    public func optionalBlob(_ column: String) throws -> [UInt8]? {
        switch try value(column) {
        case .null: return nil
        case .blob(let blob): return blob
        case let other: throw mismatch(column, .blob, found: other.storageClass)
        }
    }

    private func mismatch(
        _ column: String, _ expected: SQLiteValue.StorageClass, found: SQLiteValue.StorageClass
    ) -> ColumnError {
        ColumnError(column: column, problem: .wrongType(expected: expected, found: found), sql: sql)
    }
}

/// A row had no column of that name, or the column held another type than asked for.
///
/// ```
/// column "due_at" is NULL, expected INTEGER, in a row of SELECT id, due_at FROM step
/// no column "due" in a row of SELECT id, due_at FROM step (columns: id, due_at)
/// ```
///
/// Like ``SQLiteError``, it never contains the value itself.
public struct ColumnError: Error, CustomStringConvertible, Equatable {
    /// What was wrong with the column.
    public enum Problem: Equatable, Sendable {
        /// The row has no such column; `available` lists the ones it has.
        case missing(available: [String])
        /// The column holds another storage class than the accessor reads.
        case wrongType(expected: SQLiteValue.StorageClass, found: SQLiteValue.StorageClass)
    }

    /// The column name asked for.
    public let column: String
    public let problem: Problem
    /// The statement the row came from.
    public let sql: String?

    public var description: String {
        let source = sql.map { " in a row of \(SQLiteError.singleLine($0))" } ?? ""
        switch problem {
        case .missing(let available):
            return "no column \"\(column)\"\(source) (columns: \(available.joined(separator: ", ")))"
        case .wrongType(let expected, let found):
            return "column \"\(column)\" is \(found), expected \(expected)" + (source.isEmpty ? "" : "," + source)
        }
    }
}

internal import CSQLite

/// A failed SQLite call: its result codes, SQLite's message and the SQL being run.
///
/// The SQL text is the statement as written, with `?` placeholders: bound values are never part
/// of an error, so an error can be logged without leaking what was being stored.
///
/// ```
/// SQLite error 19 (NOT NULL constraint failed: step.due_at; extended code 1299) while executing INSERT INTO step …
/// ```
///
/// See <https://www.sqlite.org/rescode.html> for the codes.
public struct SQLiteError: Error, CustomStringConvertible, Equatable {
    /// The primary result code (`extendedCode & 0xff`), e.g. 19 for `SQLITE_CONSTRAINT`.
    public let code: Int32
    /// The extended result code, e.g. 1299 for `SQLITE_CONSTRAINT_NOTNULL`.
    public let extendedCode: Int32
    /// SQLite's message for the failure (`sqlite3_errmsg`), or this module's own for misuse.
    public let message: String
    /// The statement text being prepared or run, never its bound values; `nil` when the failure
    /// was not about a statement (opening, closing).
    public let sql: String?
    /// What was being done when ``sql`` is `nil`, e.g. `opening /var/lib/huaying/state.db`.
    public let operation: String?

    /// Creates an error; `code` is derived from `extendedCode`.
    ///
    /// - Parameters:
    ///   - extendedCode: An SQLite (extended) result code.
    ///   - message: What went wrong.
    ///   - sql: The statement text, without bound values.
    ///   - operation: What was being done, when there is no statement.
    public init(extendedCode: Int32, message: String, sql: String? = nil, operation: String? = nil) {
        self.code = extendedCode & 0xff
        self.extendedCode = extendedCode
        self.message = message
        self.sql = sql
        self.operation = operation
    }

    /// `SQLITE_CONSTRAINT` (19): a NOT NULL, UNIQUE, PRIMARY KEY, CHECK or FOREIGN KEY constraint
    /// failed; ``extendedCode`` says which.
    public var isConstraintViolation: Bool { code == SQLITE_CONSTRAINT }

    /// `SQLITE_BUSY` (5): another connection held a lock for longer than the busy timeout.
    /// Also what ``Database/close()`` reports while statements are still alive.
    public var isBusy: Bool { code == SQLITE_BUSY }

    /// `SQLITE_READONLY` (8): a write on a read-only connection or file.
    public var isReadOnly: Bool { code == SQLITE_READONLY }

    /// `SQLITE_FULL` (13): the disk (or the database's size limit) is full.
    public var isFull: Bool { code == SQLITE_FULL }

    public var description: String {
        var text = "SQLite error \(code) (\(message)"
        if extendedCode != code {
            text += "; extended code \(extendedCode)"
        }
        text += ")"
        if let sql {
            text += " while executing \(Self.singleLine(sql))"
        } else if let operation {
            text += " while \(operation)"
        }
        return text
    }

    /// Collapses whitespace runs (newlines included) so that a multi-line statement logs as one line.
    static func singleLine(_ sql: String) -> String {
        var result = ""
        var pendingSpace = false
        for character in sql {
            if character.isWhitespace {
                pendingSpace = !result.isEmpty
            } else {
                if pendingSpace { result.append(" ") }
                pendingSpace = false
                result.append(character)
            }
        }
        return result
    }
}

extension SQLiteError {
    /// The error for `resultCode`, returned by a call on `connection`.
    ///
    /// Takes the connection's message when it belongs to this code, SQLite's generic text for the
    /// code otherwise (a message left over from an earlier call must not be reported).
    init(connection: OpaquePointer?, resultCode: Int32, sql: String?, operation: String? = nil) {
        let message: String
        if let connection, sqlite3_extended_errcode(connection) == resultCode,
           let cMessage = sqlite3_errmsg(connection)
        {
            message = String(cString: cMessage)
        } else if let cMessage = sqlite3_errstr(resultCode) {
            message = String(cString: cMessage)
        } else {
            message = "unknown error"
        }
        self.init(extendedCode: resultCode, message: message, sql: sql, operation: operation)
    }

    /// An API misuse detected by this module (`SQLITE_MISUSE`, 21).
    static func misuse(_ message: String, sql: String? = nil, operation: String? = nil) -> SQLiteError {
        SQLiteError(extendedCode: SQLITE_MISUSE, message: message, sql: sql, operation: operation)
    }
}

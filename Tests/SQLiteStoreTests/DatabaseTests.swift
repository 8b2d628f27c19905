import Foundation
import SQLiteStore
import Testing

@Suite struct DatabaseTests {
    // MARK: Opening

    @Test func openingSetsWALSynchronousFullAndForeignKeysByDefault() throws {
        try withTemporaryDatabasePath { path in
            let db = try Database(path: path)
            #expect(try db.pragma("journal_mode") == .text("wal"))
            #expect(try db.pragma("synchronous") == .integer(2))
            #expect(try db.pragma("foreign_keys") == .integer(1))
            #expect(try db.pragma("busy_timeout") == .integer(5000))
            #expect(FileManager.default.fileExists(atPath: path))
            try db.close()
        }
    }

    @Test func synchronousAndBusyTimeoutComeFromOptions() throws {
        try withTemporaryDatabasePath { path in
            let db = try Database(path: path, options: .init(synchronous: .normal, busyTimeoutMilliseconds: 250))
            #expect(try db.pragma("synchronous") == .integer(1))
            #expect(try db.pragma("busy_timeout") == .integer(250))
            #expect(try db.pragma("main.journal_mode") == .text("wal"))
        }
    }

    @Test func inMemoryDatabaseOpensWithoutWAL() throws {
        let db = try Database(path: ":memory:")
        #expect(try db.pragma("journal_mode") == .text("memory"))
        try db.execute("CREATE TABLE t (x); INSERT INTO t VALUES (1)")
        #expect(try db.queryOne("SELECT count(*) AS n FROM t")?.int("n") == 1)
    }

    @Test func openingInAMissingDirectoryNamesThePath() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/missing/state.db"
            let error = #expect(throws: SQLiteError.self) { try Database(path: path) }
            #expect(error?.code == 14)  // SQLITE_CANTOPEN
            #expect(error?.sql == nil)
            #expect(error?.description.contains(path) == true)
        }
    }

    @Test func reopeningAnExistingFileSeesEarlierData() throws {
        try withTemporaryDatabasePath { path in
            do {
                let db = try Database(path: path)
                try db.execute("CREATE TABLE unit (id TEXT PRIMARY KEY, name TEXT NOT NULL)")
                try db.execute("INSERT INTO unit VALUES (?, ?)", ["huaying-1", "华蓥市双河街道"])
                try db.close()
            }
            let db = try Database(path: path)
            let rows = try db.query("SELECT id, name FROM unit")
            #expect(rows.count == 1)
            #expect(try rows.first?.text("name") == "华蓥市双河街道")
        }
    }

    @Test func readOnlyConnectionReadsButCannotWrite() throws {
        try withTemporaryDatabasePath { path in
            let writer = try Database(path: path)
            try writer.execute("CREATE TABLE t (x INTEGER)")
            try writer.execute("INSERT INTO t VALUES (?)", [7])

            let reader = try Database(path: path, options: .init(readOnly: true))
            #expect(try reader.pragma("journal_mode") == .text("wal"))
            let count = try reader.transaction { try reader.queryOne("SELECT count(*) AS n FROM t")?.int("n") }
            #expect(count == 1)
            let error = #expect(throws: SQLiteError.self) { try reader.execute("INSERT INTO t VALUES (?)", [8]) }
            #expect(error?.isReadOnly == true)
        }
    }

    @Test func isReadOnlyTellsAWritableConnectionFromAReadOnlyOne() throws {
        try withTemporaryDatabasePath { path in
            let writer = try Database(path: path)
            try writer.execute("CREATE TABLE t (x INTEGER)")
            #expect(writer.isReadOnly == false)
            let reader = try Database(path: path, options: .init(readOnly: true))
            #expect(reader.isReadOnly)
            try reader.close()
            #expect(reader.isReadOnly, "a closed connection cannot write either")
        }
    }

    @Test func readOnlyConnectionRefusesAFileNotInWALMode() throws {
        try withTemporaryDatabasePath { path in
            let db = try Database(path: path)
            try db.execute("PRAGMA journal_mode=DELETE")
            try db.close()
            let error = #expect(throws: SQLiteError.self) {
                try Database(path: path, options: .init(readOnly: true))
            }
            #expect(error?.message.contains("not wal") == true)
            #expect(error?.sql == "PRAGMA journal_mode")
            #expect(error?.code == 1)
        }
    }

    // MARK: Values

    @Test func everyValueTypeRoundTrips() throws {
        try withTemporaryDatabasePath { path in
            let db = try Database(path: path)
            try db.execute("CREATE TABLE v (id INTEGER PRIMARY KEY, value)")
            let chinese = "村（居）民委员会换届选举：选民名单须在选举日前20日公布 🗳️"
            let values: [SQLiteValue] = [
                .null,
                .integer(0), .integer(Int64.max), .integer(Int64.min), .integer(-1),
                .real(3.25), .real(-0.5), .real(1e300),
                .text(""), .text("plain"), .text(chinese), .text("nul\u{0}inside"),
                .blob([]), .blob([0, 1, 2, 0, 255]), .blob(Array(chinese.utf8)),
            ]
            for value in values {
                try db.execute("INSERT INTO v (value) VALUES (?)", [value])
            }
            let rows = try db.query("SELECT value FROM v ORDER BY id")
            #expect(rows.map { $0[0] } == values)
            #expect(rows.map(\.columnNames) == Array(repeating: ["value"], count: values.count))
        }
    }

    @Test func typedAccessorsAndBindableValues() throws {
        let db = try Database(path: ":memory:")
        try db.execute("CREATE TABLE step (id INTEGER PRIMARY KEY, title TEXT, due_at INTEGER, weight REAL, done INTEGER, hash BLOB)")
        let title: String? = "公布选民名单"
        let missingHash: [UInt8]? = nil
        try db.execute(
            "INSERT INTO step (title, due_at, weight, done, hash) VALUES (?, ?, ?, ?, ?)",
            [.init(title), .init(Int(1_767_225_600)), .init(0.5), .init(true), .init(missingHash)]
        )
        #expect(db.lastInsertRowID == 1)
        #expect(db.changes == 1)
        let row = try #require(try db.queryOne("SELECT * FROM step WHERE id = ?", [.init(db.lastInsertRowID)]))
        #expect(try row.int("id") == 1)
        #expect(try row.text("title") == "公布选民名单")
        #expect(try row.optionalText("title") == "公布选民名单")
        #expect(try row.int("DUE_AT") == 1_767_225_600)  // names ignore case, as in SQL
        #expect(try row.double("weight") == 0.5)
        #expect(try row.double("due_at") == 1_767_225_600)  // integers read as doubles
        #expect(try row.bool("done"))
        #expect(try row.optionalBlob("hash") == nil)
        #expect(row["hash"] == .null)
        #expect(row["no_such_column"] == .null)
        #expect(row.count == 6)

        let literals: [SQLiteValue] = [1, 2.5, "text", true, false, nil]
        #expect(literals == [.integer(1), .real(2.5), .text("text"), .integer(1), .integer(0), .null])
        #expect(SQLiteValue(Int64(5)) == .integer(5))
        #expect(SQLiteValue([UInt8]([1, 2])) == .blob([1, 2]))
        #expect(SQLiteValue(Optional<Int>.none) == .null)
        #expect(SQLiteValue(Int32(-3)) == .integer(-3))
        #expect(5.sqliteValue.storageClass == .integer)
    }

    @Test func accessorErrorsNameTheColumnButNotTheValue() throws {
        let db = try Database(path: ":memory:")
        let row = try #require(try db.queryOne("SELECT ? AS note, NULL AS due_at", ["secret-note"]))

        let wrongType = #expect(throws: ColumnError.self) { try row.int("note") }
        #expect(wrongType?.column == "note")
        #expect(wrongType?.problem == .wrongType(expected: .integer, found: .text))
        #expect(wrongType?.description.contains("secret-note") == false)
        #expect(wrongType?.description.contains("\"note\" is TEXT, expected INTEGER") == true)

        let null = #expect(throws: ColumnError.self) { try row.text("due_at") }
        #expect(null?.problem == .wrongType(expected: .text, found: .null))
        #expect(try row.optionalText("due_at") == nil)

        let missing = #expect(throws: ColumnError.self) { try row.text("due") }
        #expect(missing?.problem == .missing(available: ["note", "due_at"]))
        #expect(missing?.description.contains("in a row of SELECT ? AS note, NULL AS due_at") == true)
    }

    // MARK: Errors

    @Test func notNullViolationThrowsCode19And1299WithSQLButNotValues() throws {
        try withTemporaryDatabasePath { path in
            let db = try Database(path: path)
            try db.execute("CREATE TABLE step (id INTEGER PRIMARY KEY, note TEXT, due_at INTEGER NOT NULL)")
            let sql = "INSERT INTO step (note, due_at) VALUES (?, ?)"
            let error = #expect(throws: SQLiteError.self) {
                try db.execute(sql, ["机密备注-secret", nil])
            }
            #expect(error?.code == 19)
            #expect(error?.extendedCode == 1299)  // SQLITE_CONSTRAINT_NOTNULL
            #expect(error?.isConstraintViolation == true)
            #expect(error?.isBusy == false)
            #expect(error?.message == "NOT NULL constraint failed: step.due_at")
            #expect(error?.sql == sql)
            #expect(
                error?.description
                    == "SQLite error 19 (NOT NULL constraint failed: step.due_at; extended code 1299) while executing \(sql)"
            )
            #expect(error?.description.contains("secret") == false)
            // The cached statement is usable again afterwards.
            try db.execute(sql, ["ok", 1])
            #expect(db.changes == 1)
        }
    }

    @Test func uniqueViolationThrowsCode19And2067() throws {
        try withTemporaryDatabasePath { path in
            let db = try Database(path: path)
            try db.execute("CREATE TABLE staff (id INTEGER PRIMARY KEY, unix_name TEXT UNIQUE)")
            try db.execute("INSERT INTO staff (unix_name) VALUES (?)", ["zhang.wei"])
            let error = #expect(throws: SQLiteError.self) {
                try db.execute("INSERT INTO staff (unix_name) VALUES (?)", ["zhang.wei"])
            }
            #expect(error?.code == 19)
            #expect(error?.extendedCode == 2067)  // SQLITE_CONSTRAINT_UNIQUE
            #expect(error?.description.contains("INSERT INTO staff (unix_name) VALUES (?)") == true)
            #expect(error?.description.contains("zhang.wei") == false)
        }
    }

    @Test func foreignKeysAreEnforced() throws {
        let db = try Database(path: ":memory:")
        try db.execute("""
            CREATE TABLE instance (id INTEGER PRIMARY KEY);
            CREATE TABLE step (id INTEGER PRIMARY KEY, instance_id INTEGER NOT NULL REFERENCES instance(id));
            """)
        let error = #expect(throws: SQLiteError.self) {
            try db.execute("INSERT INTO step (instance_id) VALUES (?)", [42])
        }
        #expect(error?.extendedCode == 787)  // SQLITE_CONSTRAINT_FOREIGNKEY
    }

    @Test func syntaxErrorNamesTheSQL() throws {
        let db = try Database(path: ":memory:")
        let error = #expect(throws: SQLiteError.self) { try db.query("SELEC id FROM step") }
        #expect(error?.code == 1)
        #expect(error?.sql == "SELEC id FROM step")
        #expect(error?.description.contains("near \"SELEC\": syntax error") == true)
        #expect(error?.description.hasSuffix("while executing SELEC id FROM step") == true)

        // In a script, the error names the failing statement, not the ones before it.
        let scriptError = #expect(throws: SQLiteError.self) {
            try db.execute("""
                CREATE TABLE a (x);
                INSERT INTO a VALUES (1);
                INSERT INTO missing VALUES (2);
                """)
        }
        #expect(scriptError?.message == "no such table: missing")
        #expect(scriptError?.sql == "INSERT INTO missing VALUES (2);")
        #expect(try db.queryOne("SELECT count(*) AS n FROM a")?.int("n") == 1)
    }

    @Test func multiLineSQLIsLoggedOnOneLine() {
        let error = SQLiteError(extendedCode: 1, message: "boom", sql: "SELECT\n    id\n  FROM step\n")
        #expect(error.description == "SQLite error 1 (boom) while executing SELECT id FROM step")
    }

    @Test func wrongArgumentCountThrowsRange() throws {
        let db = try Database(path: ":memory:")
        try db.execute("CREATE TABLE t (a, b)")
        let error = #expect(throws: SQLiteError.self) { try db.execute("INSERT INTO t VALUES (?, ?)", [1]) }
        #expect(error?.code == 25)  // SQLITE_RANGE
        #expect(error?.message == "statement has 2 parameters, 1 argument given")
        let none = #expect(throws: SQLiteError.self) { try db.query("SELECT * FROM t WHERE a = ?") }
        #expect(none?.code == 25)
        // The script form takes no arguments, so parameters there are refused rather than NULL.
        let script = #expect(throws: SQLiteError.self) { try db.execute("INSERT INTO t VALUES (1, ?)") }
        #expect(script?.code == 25)
        #expect(script?.sql == "INSERT INTO t VALUES (1, ?)")
        #expect(try db.queryOne("SELECT count(*) AS n FROM t")?.int("n") == 0)
    }

    @Test func prepareRejectsEmptySQLAndSeveralStatements() throws {
        let db = try Database(path: ":memory:")
        let several = #expect(throws: SQLiteError.self) { try db.prepare("SELECT 1; SELECT 2") }
        #expect(several?.code == 21)
        #expect(several?.sql == "SELECT 1; SELECT 2")
        let empty = #expect(throws: SQLiteError.self) { try db.prepare("  -- nothing\n") }
        #expect(empty?.code == 21)
        // A trailing semicolon and comment are fine.
        #expect(try db.prepare("SELECT 1 AS one; -- done").queryOne()?.int("one") == 1)
        #expect(throws: SQLiteError.self) { try db.pragma("journal_mode; DROP TABLE x") }
    }

    // MARK: Statements

    @Test func cachedStatementIsReusedWithFreshBindings() throws {
        let db = try Database(path: ":memory:")
        try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
        let insertSQL = "INSERT INTO t (name) VALUES (?)"
        let first = try db.cachedStatement(insertSQL)
        try first.execute(["社区呼叫"])
        let second = try db.cachedStatement(insertSQL)
        #expect(first === second)
        try second.execute(["街道吹哨"])
        // Bindings were cleared before reuse: running without arguments is refused, not NULL.
        let third = try db.cachedStatement(insertSQL)
        #expect(throws: SQLiteError.self) { try third.execute() }
        try db.execute(insertSQL, ["部门报到"])  // the same cached statement, through Database

        let select = try db.cachedStatement("SELECT name FROM t WHERE id >= ? ORDER BY id")
        #expect(try select.query([2]).map { try $0.text("name") } == ["街道吹哨", "部门报到"])
        #expect(try select.query([1]).map { try $0.text("name") } == ["社区呼叫", "街道吹哨", "部门报到"])
        #expect(try db.cachedStatement("SELECT name FROM t WHERE id >= ? ORDER BY id") === select)
        #expect(try db.prepare(insertSQL) !== first)
    }

    @Test func boundValuesAreReusedUntilReset() throws {
        let db = try Database(path: ":memory:")
        try db.execute("CREATE TABLE t (x)")
        let insert = try db.prepare("INSERT INTO t VALUES (?)")
        #expect(insert.parameterCount == 1)
        try insert.bind(["again"])
        try insert.execute()
        try insert.execute()
        insert.reset()
        #expect(throws: SQLiteError.self) { try insert.execute() }
        #expect(try db.queryOne("SELECT count(*) AS n FROM t WHERE x = 'again'")?.int("n") == 2)
        #expect(try db.prepare("SELECT x AS value, 1 AS one FROM t").columnNames == ["value", "one"])
    }

    // MARK: Busy

    @Test func writeFailsWithBusyWhileAnotherConnectionHoldsTheWriteLock() throws {
        try withTemporaryDatabasePath { path in
            let db = try Database(path: path, options: .init(busyTimeoutMilliseconds: 100))
            try db.execute("CREATE TABLE t (x)")
            let other = try Database(path: path)
            try other.execute("BEGIN IMMEDIATE")
            try other.execute("INSERT INTO t VALUES (?)", [1])

            let clock = ContinuousClock()
            let start = clock.now
            let error = #expect(throws: SQLiteError.self) { try db.execute("INSERT INTO t VALUES (?)", [2]) }
            #expect(clock.now - start >= .milliseconds(90))
            #expect(error?.isBusy == true)
            #expect(error?.code == 5)
            #expect(error?.sql == "INSERT INTO t VALUES (?)")
            let transactionError = #expect(throws: SQLiteError.self) { try db.transaction { } }
            #expect(transactionError?.isBusy == true)
            #expect(transactionError?.sql == "BEGIN IMMEDIATE")
            #expect(!db.isInTransaction)

            // Readers are not blocked by the writer in WAL mode.
            #expect(try db.queryOne("SELECT count(*) AS n FROM t")?.int("n") == 0)

            try other.execute("COMMIT")
            try db.execute("INSERT INTO t VALUES (?)", [2])
            #expect(try db.queryOne("SELECT count(*) AS n FROM t")?.int("n") == 2)
        }
    }

    // MARK: Closing

    @Test func closingTwiceIsFineAndLaterCallsThrow() throws {
        try withTemporaryDatabasePath { path in
            let db = try Database(path: path)
            let cached = try db.cachedStatement("SELECT 1")
            try db.close()
            try db.close()
            #expect(db.isClosed)
            let error = #expect(throws: SQLiteError.self) { try db.query("SELECT 1") }
            #expect(error?.code == 21)
            #expect(error?.message == "database is closed")
            #expect(throws: SQLiteError.self) { try cached.query() }  // finalized by close
            #expect(db.lastInsertRowID == 0)
        }
    }

    @Test func closeFailsWhileAPreparedStatementIsAlive() throws {
        let db = try Database(path: ":memory:")
        let statement = try db.prepare("SELECT 1")
        let error = #expect(throws: SQLiteError.self) { try db.close() }
        #expect(error?.isBusy == true)
        #expect(error?.operation == "closing :memory:")
        #expect(!db.isClosed)
        #expect(try statement.queryOne()?[0] == .integer(1))  // still usable
        statement.finalize()
        statement.finalize()
        try db.close()
        #expect(db.isClosed)
    }

    @Test func statementKeepsItsDatabaseOpen() throws {
        let statement = try Database(path: ":memory:").prepare("SELECT 40 + 2")
        #expect(try statement.queryOne()?[0] == .integer(42))
    }
}

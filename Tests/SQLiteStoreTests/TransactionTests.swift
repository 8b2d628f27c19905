import SQLiteStore
import Testing

@Suite struct TransactionTests {
    private func makeDatabase(_ path: String) throws -> Database {
        let db = try Database(path: path)
        try db.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
        return db
    }

    private func texts(_ db: Database) throws -> [String] {
        try db.query("SELECT text FROM ledger ORDER BY id").map { try $0.text("text") }
    }

    @Test func transactionCommitsAndReturnsTheBodysValue() throws {
        try withTemporaryDatabasePath { path in
            let db = try makeDatabase(path)
            let id = try db.transaction {
                #expect(db.isInTransaction)
                try db.execute("INSERT INTO ledger (text) VALUES (?)", ["选民名单已公布"])
                return db.lastInsertRowID
            }
            #expect(id == 1)
            #expect(!db.isInTransaction)
            // Committed: another connection sees it.
            #expect(try texts(Database(path: path)) == ["选民名单已公布"])
        }
    }

    @Test func transactionRollsBackWhenTheBodyThrows() throws {
        try withTemporaryDatabasePath { path in
            let db = try makeDatabase(path)
            #expect(throws: ExpectedTestError()) {
                try db.transaction {
                    try db.execute("INSERT INTO ledger (text) VALUES (?)", ["never"])
                    throw ExpectedTestError()
                }
            }
            #expect(!db.isInTransaction)
            #expect(try texts(db) == [])
        }
    }

    @Test func transactionRollsBackWhenAStatementFails() throws {
        try withTemporaryDatabasePath { path in
            let db = try makeDatabase(path)
            let error = #expect(throws: SQLiteError.self) {
                try db.transaction {
                    try db.execute("INSERT INTO ledger (text) VALUES (?)", ["first"])
                    try db.execute("INSERT INTO ledger (text) VALUES (?)", [nil])
                }
            }
            #expect(error?.extendedCode == 1299)
            #expect(try texts(db) == [])
        }
    }

    @Test func nestedTransactionRollsBackOnlyTheInnerSavepoint() throws {
        try withTemporaryDatabasePath { path in
            let db = try makeDatabase(path)
            try db.transaction {
                try db.execute("INSERT INTO ledger (text) VALUES (?)", ["outer-before"])
                #expect(throws: ExpectedTestError()) {
                    try db.transaction {
                        try db.execute("INSERT INTO ledger (text) VALUES (?)", ["inner"])
                        try db.transaction {
                            try db.execute("INSERT INTO ledger (text) VALUES (?)", ["inner-inner"])
                        }
                        throw ExpectedTestError()
                    }
                }
                #expect(db.isInTransaction)
                try db.transaction {
                    try db.execute("INSERT INTO ledger (text) VALUES (?)", ["inner-kept"])
                }
                try db.execute("INSERT INTO ledger (text) VALUES (?)", ["outer-after"])
            }
            #expect(try texts(db) == ["outer-before", "inner-kept", "outer-after"])
        }
    }

    @Test func outerRollbackUndoesReleasedSavepoints() throws {
        try withTemporaryDatabasePath { path in
            let db = try makeDatabase(path)
            #expect(throws: ExpectedTestError()) {
                try db.transaction {
                    try db.transaction {
                        try db.execute("INSERT INTO ledger (text) VALUES (?)", ["inner"])
                    }
                    throw ExpectedTestError()
                }
            }
            #expect(try texts(db) == [])
        }
    }

    @Test func failedCommitIsRolledBack() throws {
        try withTemporaryDatabasePath { path in
            let db = try Database(path: path)
            try db.execute("""
                CREATE TABLE parent (id INTEGER PRIMARY KEY);
                CREATE TABLE child (parent_id INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);
                """)
            let error = #expect(throws: SQLiteError.self) {
                try db.transaction {
                    try db.execute("INSERT INTO child VALUES (?)", [1])  // checked only at COMMIT
                }
            }
            #expect(error?.extendedCode == 787)
            #expect(error?.sql == "COMMIT")
            #expect(!db.isInTransaction)
            #expect(try db.queryOne("SELECT count(*) AS n FROM child")?.int("n") == 0)
        }
    }
}

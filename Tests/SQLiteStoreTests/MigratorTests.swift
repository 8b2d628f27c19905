import SQLiteStore
import Testing

@Suite struct MigratorTests {
    private func baseMigrator() -> Migrator {
        var migrator = Migrator()
        migrator.register("v1-instances") { db in
            try db.execute("CREATE TABLE instance (id INTEGER PRIMARY KEY, workflow TEXT NOT NULL)")
        }
        migrator.register("v2-steps") { db in
            try db.execute("""
                CREATE TABLE step (
                    id INTEGER PRIMARY KEY,
                    instance_id INTEGER NOT NULL REFERENCES instance(id),
                    due_at INTEGER NOT NULL
                );
                CREATE INDEX step_due_at ON step(due_at);
                """)
        }
        return migrator
    }

    @Test func migrationsApplyExactlyOnceAcrossTwoOpens() throws {
        try withTemporaryDatabasePath { path in
            var runs = 0
            var migrator = baseMigrator()
            migrator.register("v3-count-runs") { _ in runs += 1 }

            do {
                let db = try Database(path: path)
                #expect(try migrator.appliedMigrations(db) == [])
                #expect(try migrator.pendingMigrations(db) == ["v1-instances", "v2-steps", "v3-count-runs"])
                #expect(try migrator.migrate(db) == ["v1-instances", "v2-steps", "v3-count-runs"])
                #expect(try migrator.migrate(db) == [])
            }
            let db = try Database(path: path)
            #expect(try migrator.migrate(db) == [])
            #expect(runs == 1)
            #expect(try migrator.appliedMigrations(db) == ["v1-instances", "v2-steps", "v3-count-runs"])
            #expect(try migrator.pendingMigrations(db) == [])
            let row = try #require(try db.queryOne("SELECT applied_at FROM schema_migrations WHERE name = 'v2-steps'"))
            #expect(try row.text("applied_at").hasSuffix("Z"))
            try db.execute("INSERT INTO instance (workflow) VALUES (?)", ["election-cycle"])
        }
    }

    @Test func laterMigrationsApplyOnTopOfEarlierOnes() throws {
        try withTemporaryDatabasePath { path in
            let db = try Database(path: path)
            var migrator = baseMigrator()
            try migrator.migrate(db)
            migrator.register("v3-reminders") { db in
                try db.execute("CREATE TABLE reminder (id INTEGER PRIMARY KEY, step_id INTEGER NOT NULL REFERENCES step(id))")
            }
            #expect(try migrator.migrate(db) == ["v3-reminders"])
        }
    }

    @Test func throwingMigrationLeavesNeitherItsChangesNorItsRecord() throws {
        try withTemporaryDatabasePath { path in
            let db = try Database(path: path)
            var migrator = baseMigrator()
            migrator.register("v3-broken") { db in
                try db.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY)")
                try db.execute("INSERT INTO outbox (id) VALUES (?)", [1])
                try db.execute("ALTER TABLE no_such_table ADD COLUMN x")
            }
            migrator.register("v4-after") { db in
                try db.execute("CREATE TABLE after_broken (x)")
            }

            let error = #expect(throws: MigrationError.self) { try migrator.migrate(db) }
            guard case .failed(let name, let underlying)? = error else {
                Issue.record("expected .failed, got \(String(describing: error))")
                return
            }
            #expect(name == "v3-broken")
            #expect((underlying as? SQLiteError)?.sql == "ALTER TABLE no_such_table ADD COLUMN x")
            #expect(error?.description.contains("migration v3-broken failed") == true)

            #expect(try migrator.appliedMigrations(db) == ["v1-instances", "v2-steps"])
            #expect(try db.queryOne("SELECT 1 FROM sqlite_schema WHERE name IN ('outbox', 'after_broken')") == nil)
            #expect(!db.isInTransaction)

            // Once fixed, the migration and those after it apply.
            var fixed = baseMigrator()
            fixed.register("v3-broken") { db in try db.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY)") }
            fixed.register("v4-after") { db in try db.execute("CREATE TABLE after_broken (x)") }
            #expect(try fixed.migrate(db) == ["v3-broken", "v4-after"])
        }
    }

    @Test func unknownAppliedMigrationsAreReportedByName() throws {
        try withTemporaryDatabasePath { path in
            let db = try Database(path: path)
            var newer = baseMigrator()
            newer.register("v3-from-the-future") { db in try db.execute("CREATE TABLE future (x)") }
            newer.register("v4-also-newer") { _ in }
            try newer.migrate(db)

            var older = baseMigrator()
            older.register("v2b-only-in-older") { _ in }
            let error = #expect(throws: MigrationError.self) { try older.migrate(db) }
            guard case .unknownMigrations(let names)? = error else {
                Issue.record("expected .unknownMigrations, got \(String(describing: error))")
                return
            }
            #expect(names == ["v3-from-the-future", "v4-also-newer"])
            #expect(error?.description.contains("v3-from-the-future, v4-also-newer") == true)
            // Nothing was applied, not even the older program's own pending migration.
            #expect(try older.appliedMigrations(db) == ["v1-instances", "v2-steps", "v3-from-the-future", "v4-also-newer"])
        }
    }

    @Test func duplicateNamesAreRefused() throws {
        let db = try Database(path: ":memory:")
        var migrator = baseMigrator()
        migrator.register("v1-instances") { _ in }
        let error = #expect(throws: MigrationError.self) { try migrator.migrate(db) }
        #expect(error?.description == "migration v1-instances is registered more than once")
        #expect(try migrator.appliedMigrations(db) == [])
    }

    @Test func migrationsMayNestTransactions() throws {
        let db = try Database(path: ":memory:")
        var migrator = Migrator()
        migrator.register("v1-nested") { db in
            try db.execute("CREATE TABLE t (x)")
            try? db.transaction {
                try db.execute("INSERT INTO t VALUES (?)", [1])
                throw ExpectedTestError()
            }
            try db.transaction { try db.execute("INSERT INTO t VALUES (?)", [2]) }
        }
        #expect(try migrator.migrate(db) == ["v1-nested"])
        #expect(try db.query("SELECT x FROM t").map { try $0.int("x") } == [2])
    }
}

/// Named, append-only schema migrations, recorded in the table
/// `schema_migrations(name TEXT PRIMARY KEY NOT NULL, applied_at TEXT NOT NULL)`.
///
/// Register every migration the program has ever shipped, oldest first, and never edit or
/// remove one that was released: add a new one instead. ``migrate(_:)`` runs, in registration
/// order, those the database has not recorded yet, each in its own transaction together with
/// its record row, so a migration is either fully applied and recorded or not at all.
///
/// ```swift
/// var migrator = Migrator()
/// migrator.register("v1-steps") { db in
///     try db.execute("CREATE TABLE step (id INTEGER PRIMARY KEY, due_at INTEGER NOT NULL)")
/// }
/// migrator.register("v2-reminders") { db in
///     try db.execute("CREATE TABLE reminder (id INTEGER PRIMARY KEY, step_id INTEGER NOT NULL REFERENCES step)")
/// }
/// let applied = try migrator.migrate(db)   // ["v1-steps", "v2-reminders"] the first time, [] after
/// ```
///
/// Foreign keys are on and `PRAGMA foreign_keys` cannot change inside a transaction: a
/// migration that rebuilds a table others refer to should set `PRAGMA defer_foreign_keys=ON`
/// first (see <https://www.sqlite.org/lang_altertable.html#otheralter>).
///
/// - Important: Use a migrator only on its database's thread; it is not `Sendable` (the
///   migration closures may capture anything).
public struct Migrator {
    private var migrations: [(name: String, migrate: (Database) throws -> Void)] = []
    private var duplicateNames: [String] = []

    /// Creates a migrator with no migrations.
    public init() {}

    /// The registered migration names, in order.
    public var names: [String] { migrations.map(\.name) }

    /// Appends a migration.
    ///
    /// A name registered twice makes ``migrate(_:)`` throw ``MigrationError/duplicateName(_:)``.
    ///
    /// - Parameters:
    ///   - name: A stable, unique name, recorded in the database (e.g. `"v3-outbox"`).
    ///   - migrate: The schema change; it runs inside a transaction, so it must not run `BEGIN`
    ///     or `COMMIT` itself (nested ``Database/transaction(_:)`` calls are fine).
    public mutating func register(_ name: String, _ migrate: @escaping (Database) throws -> Void) {
        if migrations.contains(where: { $0.name == name }) {
            duplicateNames.append(name)
        }
        migrations.append((name, migrate))
    }

    /// Applies, in registration order, each migration not yet recorded, each in its own
    /// transaction together with its record row.
    ///
    /// - Parameter db: The database to migrate.
    /// - Returns: The names applied by this call (empty when the schema is current).
    /// - Throws: ``MigrationError/unknownMigrations(_:)`` (before applying anything) when the
    ///   database records migrations this migrator does not know: it was migrated by a newer
    ///   program. ``MigrationError/failed(migration:underlying:)`` when a migration throws; that
    ///   migration is rolled back and no later one runs, earlier ones stay applied.
    ///   ``MigrationError/duplicateName(_:)``, or ``SQLiteError`` when the table cannot be read.
    /// - Important: Call only on the database's thread.
    @discardableResult
    public func migrate(_ db: Database) throws -> [String] {
        if let duplicate = duplicateNames.first {
            throw MigrationError.duplicateName(duplicate)
        }
        try db.execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                name TEXT PRIMARY KEY NOT NULL,
                applied_at TEXT NOT NULL
            )
            """)
        let known = Set(names)
        let unknown = try appliedMigrations(db).filter { !known.contains($0) }
        guard unknown.isEmpty else {
            throw MigrationError.unknownMigrations(unknown)
        }

        var applied: [String] = []
        for migration in migrations {
            let ran = try db.transaction { () throws -> Bool in
                // Checked inside the write transaction: another process may have applied it.
                if try isRecorded(migration.name, in: db) { return false }
                do {
                    try migration.migrate(db)
                } catch {
                    throw MigrationError.failed(migration: migration.name, underlying: error)
                }
                try db.execute(
                    "INSERT INTO schema_migrations (name, applied_at) VALUES (?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                    [.text(migration.name)]
                )
                return true
            }
            if ran { applied.append(migration.name) }
        }
        return applied
    }

    /// The names recorded in the database, in the order they were applied, including names this
    /// migrator does not know.
    ///
    /// - Parameter db: The database.
    /// - Returns: The recorded names; empty when the migrations table does not exist yet.
    /// - Throws: ``SQLiteError``.
    /// - Important: Call only on the database's thread.
    public func appliedMigrations(_ db: Database) throws -> [String] {
        guard try hasMigrationsTable(db) else { return [] }
        return try db.query("SELECT name FROM schema_migrations ORDER BY rowid").map { try $0.text("name") }
    }

    /// The registered names the database has not recorded yet, in registration order.
    ///
    /// - Parameter db: The database.
    /// - Returns: What ``migrate(_:)`` would apply.
    /// - Throws: ``SQLiteError``.
    /// - Important: Call only on the database's thread.
    public func pendingMigrations(_ db: Database) throws -> [String] {
        let applied = Set(try appliedMigrations(db))
        return names.filter { !applied.contains($0) }
    }

    private func hasMigrationsTable(_ db: Database) throws -> Bool {
        try db.queryOne("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'") != nil
    }

    private func isRecorded(_ name: String, in db: Database) throws -> Bool {
        try db.queryOne("SELECT 1 FROM schema_migrations WHERE name = ?", [.text(name)]) != nil
    }
}

@available(*, unavailable)
extension Migrator: Sendable {}

/// Why ``Migrator/migrate(_:)`` stopped.
public enum MigrationError: Error, CustomStringConvertible {
    /// The database records migrations the program does not know, listed in the order they were
    /// applied: it was migrated by a newer version. Nothing was applied.
    case unknownMigrations([String])
    /// The named migration threw `underlying`; it was rolled back and not recorded.
    case failed(migration: String, underlying: any Error)
    /// The same name was registered more than once. Nothing was applied.
    case duplicateName(String)

    public var description: String {
        switch self {
        case .unknownMigrations(let names):
            "the database has migrations this program does not know (is it older than the one that "
                + "last wrote the database?): \(names.joined(separator: ", "))"
        case .failed(let migration, let underlying):
            "migration \(migration) failed and was rolled back: \(underlying)"
        case .duplicateName(let name):
            "migration \(name) is registered more than once"
        }
    }
}

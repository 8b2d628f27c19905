import SQLiteStore
import WorkflowEngine

/// The daemon's own tables. Migrations are append-only: never edit or reorder a registered
/// one; add a new one. Later modules (the engine) register theirs after these.
enum StateSchema {
    static func migrator() -> Migrator {
        var migrator = Migrator()
        migrator.register("0001-daemon-run") { db in
            // One row per daemon start. `outcome` is NULL while the run lives, 'stopped' after
            // a clean stop; a run found still NULL at the next start is marked 'crashed'.
            try db.execute("""
                CREATE TABLE daemon_run (
                    id INTEGER PRIMARY KEY,
                    started_at TEXT NOT NULL,
                    stopped_at TEXT,
                    outcome TEXT CHECK (outcome IN ('stopped', 'crashed')),
                    pid INTEGER NOT NULL,
                    version TEXT NOT NULL
                )
                """)
        }
        EngineSchema.register(in: &migrator)
        return migrator
    }
}

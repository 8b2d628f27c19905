import SQLiteStore

/// The engine's tables, as append-only migrations (register after the daemon's own).
public enum EngineSchema {
    public static func register(in migrator: inout Migrator) {
        migrator.register("0101-engine-tables") { db in
            try db.execute("""
                CREATE TABLE definition (
                    version TEXT PRIMARY KEY,          -- sha256 of the file's bytes
                    workflow TEXT NOT NULL,
                    path TEXT NOT NULL,
                    source TEXT NOT NULL,              -- the file as loaded; instances re-parse it
                    loaded_at INTEGER NOT NULL
                );
                CREATE TABLE instance (
                    id INTEGER PRIMARY KEY,
                    workflow TEXT NOT NULL,
                    version TEXT NOT NULL REFERENCES definition(version),
                    unit TEXT,
                    params TEXT NOT NULL,              -- JSON object of the given parameters
                    state TEXT NOT NULL CHECK (state IN ('running', 'completed', 'cancelled')),
                    started_at INTEGER NOT NULL,
                    started_by TEXT NOT NULL,
                    ended_at INTEGER,
                    cancel_reason TEXT
                );
                CREATE INDEX instance_running ON instance(id) WHERE state = 'running';
                CREATE TABLE step (
                    instance INTEGER NOT NULL REFERENCES instance(id),
                    step TEXT NOT NULL,
                    position INTEGER NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('pending', 'due', 'running', 'waiting', 'done', 'failed', 'cancelled')),
                    due_at INTEGER,                    -- derived from due_formula; NULL while it cannot be
                    due_formula TEXT,
                    deadline_at INTEGER,
                    done_at INTEGER,
                    late_ms INTEGER NOT NULL DEFAULT 0,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (instance, step)
                ) WITHOUT ROWID;
                CREATE TABLE reminder (
                    id INTEGER PRIMARY KEY,
                    instance INTEGER NOT NULL REFERENCES instance(id),
                    step TEXT NOT NULL,
                    message TEXT NOT NULL,
                    due_at INTEGER NOT NULL,
                    deadline_at INTEGER,
                    level INTEGER NOT NULL DEFAULT 0,
                    state TEXT NOT NULL CHECK (state IN ('open', 'acked', 'cancelled')),
                    repeat_every TEXT,
                    next_repeat_at INTEGER,
                    next_escalation_at INTEGER,
                    repeats INTEGER NOT NULL DEFAULT 0,
                    acked_by TEXT,
                    acked_at INTEGER,
                    note TEXT,
                    fields TEXT
                );
                CREATE INDEX reminder_open ON reminder(instance) WHERE state = 'open';
                -- An acknowledged or cancelled reminder can never be re-opened, whatever a timer does.
                CREATE TRIGGER reminder_stays_closed BEFORE UPDATE OF state ON reminder
                    WHEN OLD.state <> 'open'
                    BEGIN SELECT RAISE(ABORT, 'reminder is closed'); END;
                CREATE TABLE reminder_recipient (
                    reminder INTEGER NOT NULL REFERENCES reminder(id),
                    user TEXT NOT NULL,
                    level INTEGER NOT NULL,
                    PRIMARY KEY (reminder, user)
                ) WITHOUT ROWID;
                CREATE INDEX recipient_user ON reminder_recipient(user);
                CREATE TABLE ledger (
                    seq INTEGER PRIMARY KEY,
                    at INTEGER NOT NULL,
                    actor TEXT NOT NULL,
                    instance INTEGER,
                    step TEXT,
                    event TEXT NOT NULL,
                    text TEXT NOT NULL,
                    fields TEXT NOT NULL,              -- JSON object, keys sorted
                    prev_hash TEXT NOT NULL,
                    hash TEXT NOT NULL                 -- sha256(prev_hash ‖ canonical row)
                );
                CREATE INDEX ledger_instance ON ledger(instance, step);
                -- Append-only: the daemon never updates or deletes a ledger row.
                CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
                    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
                CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
                    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
                """)
        }
        migrator.register("0102-triggers") { db in
            try db.execute("""
                -- The next scheduled start of each triggered workflow.
                CREATE TABLE trigger_state (
                    workflow TEXT PRIMARY KEY,
                    next_at INTEGER NOT NULL
                );
                -- One row per occurrence and unit: an occurrence starts each unit's instance once,
                -- whatever crashes happen around it.
                CREATE TABLE trigger_fire (
                    workflow TEXT NOT NULL,
                    occurrence TEXT NOT NULL,
                    unit TEXT NOT NULL,
                    instance INTEGER,
                    PRIMARY KEY (workflow, occurrence, unit)
                ) WITHOUT ROWID;
                """)
        }
        migrator.register("0103-engine-second-cut") { db in
            try db.execute("""
                -- Each running instance's next due instant, kept by every write, so start-up
                -- reads the schedule with one indexed scan (the covering index below).
                ALTER TABLE instance ADD COLUMN next_due INTEGER;
                UPDATE instance SET next_due = (SELECT min(t) FROM (
                    SELECT due_at AS t FROM step WHERE step.instance = instance.id AND state = 'pending' AND due_at IS NOT NULL
                    UNION ALL SELECT next_repeat_at FROM reminder WHERE reminder.instance = instance.id AND state = 'open'
                    UNION ALL SELECT next_escalation_at FROM reminder WHERE reminder.instance = instance.id AND state = 'open'
                )) WHERE state = 'running';
                DROP INDEX instance_running;
                CREATE INDEX instance_schedule ON instance(id, next_due) WHERE state = 'running';
                CREATE INDEX instance_unit ON instance(unit, id);
                CREATE INDEX instance_workflow ON instance(workflow, id);
                -- Loading an instance reads all its reminders, open or closed.
                CREATE INDEX reminder_instance ON reminder(instance);
                -- Why a step failed (a formula that did not evaluate, a plugin's reason).
                ALTER TABLE step ADD COLUMN failure TEXT;
                """)
        }
        registerOutbox(in: &migrator)
        migrator.register("0106-absences") { db in
            try db.execute("""
                -- Who is away when, and who stands in (huaying away). Days are civil dates in the
                -- configured zone, both included; a row is never changed, a later one for the same
                -- person and days wins (an empty substitute ends a window early).
                CREATE TABLE absence (
                    id INTEGER PRIMARY KEY,
                    user TEXT NOT NULL,
                    substitute TEXT,
                    from_day TEXT NOT NULL,
                    until_day TEXT NOT NULL,
                    recorded_by TEXT NOT NULL,
                    recorded_at INTEGER NOT NULL
                );
                CREATE INDEX absence_until ON absence(until_day);
                """)
        }
    }
}

import ControlProtocol
import Foundation
import SQLiteStore
import WorkflowModel

/// `EngineStore` on the daemon's SQLite file (schema: `EngineSchema`). Every statement is
/// prepared once (the connection caches them by SQL text).
///
/// - Important: Loop thread only.
final class SQLiteEngineStore: EngineStore {
    let db: Database

    init(db: Database) {
        self.db = db
    }

    func loadSchedule(_ body: (Int64, Int64?) -> Void) throws {
        try db.cachedStatement("SELECT id, next_due FROM instance WHERE state = '\(InstanceStatus.running.rawValue)'").scanIntegers { column in
            if let id = column(0) { body(id, column(1)) }
        }
    }

    func loadInstance(_ id: Int64, definition: (String) throws -> WorkflowDefinition) throws -> InstanceState? {
        guard let row = try db.queryOne("""
            SELECT workflow, version, unit, params, state, started_at, started_by, ended_at, cancel_reason
            FROM instance WHERE id = ?
            """, [.integer(id)]) else { return nil }
        let version = try row.text("version")
        var instance = InstanceState(
            id: id, workflow: try row.text("workflow"), version: version, definition: try definition(version),
            unit: try row.optionalText("unit"), params: FlatJSON.decode(try row.text("params")),
            status: InstanceStatus(rawValue: try row.text("state")) ?? .running,
            startedAt: Millis.date(try row.int("started_at")), startedBy: try row.text("started_by"),
            endedAt: try row.optionalInt("ended_at"), cancelReason: try row.optionalText("cancel_reason"),
            steps: [:], reminders: [])
        for step in try db.query("""
            SELECT step, position, state, due_at, due_formula, deadline_at, done_at, late_ms, attempts, failure, output
            FROM step WHERE instance = ?
            """, [.integer(id)]) {
            let stepID = try step.text("step")
            instance.steps[stepID] = InstanceState.Step(
                id: stepID, position: Int(try step.int("position")), state: StepState(rawValue: try step.text("state")) ?? .pending,
                dueAt: try step.optionalInt("due_at"), dueFormula: try step.optionalText("due_formula"),
                deadlineAt: try step.optionalInt("deadline_at"), doneAt: try step.optionalInt("done_at"),
                lateMillis: try step.int("late_ms"), attempts: Int(try step.int("attempts")), failure: try step.optionalText("failure"),
                output: try step.optionalText("output").map(FlatJSON.decode))
        }
        var recipients: [Int64: [(user: String, level: Int)]] = [:]
        for recipient in try db.query("""
            SELECT rr.reminder, rr.user, rr.level FROM reminder_recipient rr
            WHERE rr.reminder IN (SELECT id FROM reminder WHERE instance = ?) ORDER BY rr.level, rr.user
            """, [.integer(id)]) {
            recipients[try recipient.int("reminder"), default: []].append((try recipient.text("user"), Int(try recipient.int("level"))))
        }
        for reminder in try db.query("""
            SELECT id, step, message, due_at, deadline_at, level, state, repeat_every, next_repeat_at,
                   next_escalation_at, repeats, acked_by, acked_at, note, fields
            FROM reminder WHERE instance = ? ORDER BY id
            """, [.integer(id)]) {
            let reminderID = try reminder.int("id")
            instance.reminders.append(InstanceState.Reminder(
                id: reminderID, step: try reminder.text("step"), message: try reminder.text("message"),
                dueAt: try reminder.int("due_at"), deadlineAt: try reminder.optionalInt("deadline_at"),
                level: Int(try reminder.int("level")), state: ReminderState(rawValue: try reminder.text("state")) ?? .open,
                repeatEvery: try reminder.optionalText("repeat_every"), nextRepeatAt: try reminder.optionalInt("next_repeat_at"),
                nextEscalationAt: try reminder.optionalInt("next_escalation_at"), repeats: Int(try reminder.int("repeats")),
                ackedBy: try reminder.optionalText("acked_by"), ackedAt: try reminder.optionalInt("acked_at"),
                note: try reminder.optionalText("note"), fields: FlatJSON.decode(try reminder.optionalText("fields") ?? "{}"),
                recipients: recipients[reminderID] ?? []))
        }
        return instance
    }

    func instanceOfReminder(_ reminder: Int64) throws -> Int64? {
        try db.queryOne("SELECT instance FROM reminder WHERE id = ?", [.integer(reminder)])?.int("instance")
    }

    func nextIdentities() throws -> (instance: Int64, reminder: Int64) {
        let row = try db.queryOne("SELECT (SELECT coalesce(max(id), 0) FROM instance) AS i, (SELECT coalesce(max(id), 0) FROM reminder) AS r")
        return ((try row?.int("i") ?? 0) + 1, (try row?.int("r") ?? 0) + 1)
    }

    func liveCounts() throws -> (runningInstances: Int, openReminders: Int) {
        let row = try db.queryOne("""
            SELECT (SELECT count(*) FROM instance WHERE state = '\(InstanceStatus.running.rawValue)') AS running,
                   (SELECT count(*) FROM reminder WHERE state = '\(ReminderState.open.rawValue)') AS open
            """)
        return (Int(try row?.int("running") ?? 0), Int(try row?.int("open") ?? 0))
    }

    func triggerFired(workflow: String, occurrence: String, unit: String) throws -> Bool {
        try db.queryOne("SELECT 1 AS one FROM trigger_fire WHERE workflow = ? AND occurrence = ? AND unit = ?",
                        [.text(workflow), .text(occurrence), .text(unit)]) != nil
    }

    func triggerNext(workflow: String) throws -> Int64? {
        try db.queryOne("SELECT next_at FROM trigger_state WHERE workflow = ?", [.text(workflow)])?.int("next_at")
    }

    func transaction<T>(_ body: () throws -> (T, ChangeSet)) throws -> T {
        try db.transaction {
            let (result, changes) = try body()
            try write(changes)
            return result
        }
    }

    // MARK: - Writing

    private func write(_ changes: ChangeSet) throws {
        for instance in changes.created {
            try insertInstance(instance)
            for step in instance.steps.values { try insertStep(step, of: instance.id) }
            for reminder in instance.reminders { try insertReminder(reminder, of: instance.id) }
        }
        for (before, after) in changes.changed {
            try updateInstance(before, after)
            for (id, step) in after.steps where before.steps[id] != step {
                try updateStep(step, of: after.id)
            }
            var old: [Int64: InstanceState.Reminder] = [:]
            for reminder in before.reminders { old[reminder.id] = reminder }
            for reminder in after.reminders {
                guard let previous = old[reminder.id] else {
                    try insertReminder(reminder, of: after.id)
                    continue
                }
                guard previous != reminder else { continue }
                try updateReminder(reminder)
                for recipient in reminder.recipients.dropFirst(previous.recipients.count) {
                    try insertRecipient(recipient, of: reminder.id)
                }
            }
        }
        for entry in changes.ledger { try insertLedger(entry) }
        for (workflow, next) in changes.triggerNext {
            try db.execute("INSERT INTO trigger_state (workflow, next_at) VALUES (?, ?) ON CONFLICT(workflow) DO UPDATE SET next_at = excluded.next_at",
                           [.text(workflow), .integer(next)])
        }
        for fire in changes.triggerFires {
            try db.execute("INSERT INTO trigger_fire (workflow, occurrence, unit, instance) VALUES (?, ?, ?, ?)",
                           [.text(fire.workflow), .text(fire.occurrence), .text(fire.unit), fire.instance.map { .integer($0) } ?? .null])
        }
    }

    private func insertInstance(_ instance: InstanceState) throws {
        try db.execute("""
            INSERT INTO instance (id, workflow, version, unit, params, state, started_at, started_by, ended_at, cancel_reason, next_due)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.integer(instance.id), .text(instance.workflow), .text(instance.version), optional(instance.unit),
                  .text(FlatJSON.encode(instance.params)), .text(instance.status.rawValue), .integer(Millis.from(instance.startedAt)),
                  .text(instance.startedBy), optional(instance.endedAt), optional(instance.cancelReason), optional(instance.nextDue)])
    }

    private func updateInstance(_ before: InstanceState, _ after: InstanceState) throws {
        guard before.status != after.status || before.params != after.params || before.unit != after.unit
            || before.endedAt != after.endedAt || before.cancelReason != after.cancelReason || before.nextDue != after.nextDue
        else { return }
        try db.execute("""
            UPDATE instance SET unit = ?, params = ?, state = ?, ended_at = ?, cancel_reason = ?, next_due = ? WHERE id = ?
            """, [optional(after.unit), .text(FlatJSON.encode(after.params)), .text(after.status.rawValue), optional(after.endedAt),
                  optional(after.cancelReason), optional(after.nextDue), .integer(after.id)])
    }

    private func insertStep(_ step: InstanceState.Step, of instance: Int64) throws {
        try db.execute("""
            INSERT INTO step (instance, step, position, state, due_at, due_formula, deadline_at, done_at, late_ms, attempts, failure, output)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.integer(instance), .text(step.id), .integer(Int64(step.position))] + stepValues(step))
    }

    private func updateStep(_ step: InstanceState.Step, of instance: Int64) throws {
        try db.execute("""
            UPDATE step SET state = ?, due_at = ?, due_formula = ?, deadline_at = ?, done_at = ?, late_ms = ?, attempts = ?, failure = ?,
                            output = ?
            WHERE instance = ? AND step = ?
            """, stepValues(step) + [.integer(instance), .text(step.id)])
    }

    private func stepValues(_ step: InstanceState.Step) -> [SQLiteValue] {
        [.text(step.state.rawValue), optional(step.dueAt), optional(step.dueFormula), optional(step.deadlineAt), optional(step.doneAt),
         .integer(step.lateMillis), .integer(Int64(step.attempts)), optional(step.failure), optional(step.output.map(FlatJSON.encode))]
    }

    private func insertReminder(_ reminder: InstanceState.Reminder, of instance: Int64) throws {
        try db.execute("""
            INSERT INTO reminder (id, instance, step, message, due_at, deadline_at, level, state, repeat_every, next_repeat_at,
                                  next_escalation_at, repeats, acked_by, acked_at, note, fields)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.integer(reminder.id), .integer(instance), .text(reminder.step)] + reminderValues(reminder))
        for recipient in reminder.recipients { try insertRecipient(recipient, of: reminder.id) }
    }

    private func updateReminder(_ reminder: InstanceState.Reminder) throws {
        try db.execute("""
            UPDATE reminder SET message = ?, due_at = ?, deadline_at = ?, level = ?, state = ?, repeat_every = ?, next_repeat_at = ?,
                                next_escalation_at = ?, repeats = ?, acked_by = ?, acked_at = ?, note = ?, fields = ?
            WHERE id = ?
            """, reminderValues(reminder) + [.integer(reminder.id)])
    }

    private func reminderValues(_ reminder: InstanceState.Reminder) -> [SQLiteValue] {
        [.text(reminder.message), .integer(reminder.dueAt), optional(reminder.deadlineAt), .integer(Int64(reminder.level)),
         .text(reminder.state.rawValue), optional(reminder.repeatEvery), optional(reminder.nextRepeatAt),
         optional(reminder.nextEscalationAt), .integer(Int64(reminder.repeats)), optional(reminder.ackedBy), optional(reminder.ackedAt),
         optional(reminder.note), reminder.ackedAt == nil ? .null : .text(FlatJSON.encode(reminder.fields))]
    }

    private func insertRecipient(_ recipient: (user: String, level: Int), of reminder: Int64) throws {
        try db.execute("INSERT OR IGNORE INTO reminder_recipient (reminder, user, level) VALUES (?, ?, ?)",
                       [.integer(reminder), .text(recipient.user), .integer(Int64(recipient.level))])
    }

    private func insertLedger(_ entry: LedgerEntry) throws {
        try db.execute("""
            INSERT INTO ledger (seq, at, actor, instance, step, event, text, fields, prev_hash, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.integer(entry.seq), .integer(entry.atMillis), .text(entry.actor), optional(entry.instance), optional(entry.step),
                  .text(entry.event), .text(entry.text), .text(entry.fieldsJSON), .text(entry.prevHash), .text(entry.hash)])
    }

    private func optional(_ value: Int64?) -> SQLiteValue { value.map { .integer($0) } ?? .null }
    private func optional(_ value: String?) -> SQLiteValue { value.map { .text($0) } ?? .null }
}

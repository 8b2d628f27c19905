import Foundation
import SQLiteStore
import WorkflowModel

/// One instance as loaded for processing: its rows, its definition and its time environment.
struct InstanceState {
    struct Step {
        var id: String
        var position: Int
        var state: String
        var dueAt: Int64?
        var dueFormula: String?
        var deadlineAt: Int64?
        var doneAt: Int64?
        var lateMillis: Int64
        var attempts: Int
    }

    struct Reminder {
        var id: Int64
        var step: String
        var message: String
        var dueAt: Int64
        var deadlineAt: Int64?
        var level: Int
        var state: String
        var repeatEvery: String?
        var nextRepeatAt: Int64?
        var nextEscalationAt: Int64?
        var repeats: Int
        var ackedBy: String?
        var ackedAt: Int64?
        var note: String?
        var fields: [String: String]
        var recipients: [String]
    }

    var id: Int64
    var workflow: String
    var version: String
    var definition: WorkflowDefinition
    var unit: String?
    var params: [String: String]
    var state: String
    var startedAt: Date
    var steps: [String: Step]
    var reminders: [Reminder]

    var isRunning: Bool { state == "running" }

    /// The earliest instant something of this instance falls due, or nil.
    var nextDue: Int64? {
        var times: [Int64] = steps.values.compactMap { $0.state == "pending" ? $0.dueAt : nil }
        for reminder in reminders where reminder.state == "open" {
            if let at = reminder.nextRepeatAt { times.append(at) }
            if let at = reminder.nextEscalationAt { times.append(at) }
        }
        return times.min()
    }

    /// The latest acknowledged reminder of a step (what `{{steps.X.acked_by}}` reads).
    func ackedReminder(of step: String) -> Reminder? {
        reminders.filter { $0.step == step && $0.state == "acked" }.max { $0.id < $1.id }
    }

    static func load(_ id: Int64, db: Database, registry: DefinitionRegistry) throws -> InstanceState? {
        guard let row = try db.queryOne(
            "SELECT workflow, version, unit, params, state, started_at FROM instance WHERE id = ?", [.integer(id)]) else { return nil }
        let version = try row.text("version")
        let params = (try? JSONDecoder().decode([String: String].self, from: Data(try row.text("params").utf8))) ?? [:]
        var state = InstanceState(
            id: id, workflow: try row.text("workflow"), version: version,
            definition: try registry.definition(version: version), unit: try row.optionalText("unit"),
            params: params, state: try row.text("state"), startedAt: Millis.date(try row.int("started_at")),
            steps: [:], reminders: [])
        for step in try db.query("""
            SELECT step, position, state, due_at, due_formula, deadline_at, done_at, late_ms, attempts
            FROM step WHERE instance = ? ORDER BY position
            """, [.integer(id)]) {
            let stepID = try step.text("step")
            state.steps[stepID] = Step(
                id: stepID, position: Int(try step.int("position")), state: try step.text("state"),
                dueAt: try step.optionalInt("due_at"), dueFormula: try step.optionalText("due_formula"),
                deadlineAt: try step.optionalInt("deadline_at"), doneAt: try step.optionalInt("done_at"),
                lateMillis: try step.int("late_ms"), attempts: Int(try step.int("attempts")))
        }
        var recipients: [Int64: [String]] = [:]
        for recipient in try db.query("""
            SELECT rr.reminder, rr.user FROM reminder_recipient rr JOIN reminder r ON r.id = rr.reminder
            WHERE r.instance = ? ORDER BY rr.level, rr.user
            """, [.integer(id)]) {
            recipients[try recipient.int("reminder"), default: []].append(try recipient.text("user"))
        }
        for reminder in try db.query("""
            SELECT id, step, message, due_at, deadline_at, level, state, repeat_every, next_repeat_at,
                   next_escalation_at, repeats, acked_by, acked_at, note, fields
            FROM reminder WHERE instance = ? ORDER BY id
            """, [.integer(id)]) {
            let reminderID = try reminder.int("id")
            state.reminders.append(Reminder(
                id: reminderID, step: try reminder.text("step"), message: try reminder.text("message"),
                dueAt: try reminder.int("due_at"), deadlineAt: try reminder.optionalInt("deadline_at"),
                level: Int(try reminder.int("level")), state: try reminder.text("state"),
                repeatEvery: try reminder.optionalText("repeat_every"), nextRepeatAt: try reminder.optionalInt("next_repeat_at"),
                nextEscalationAt: try reminder.optionalInt("next_escalation_at"), repeats: Int(try reminder.int("repeats")),
                ackedBy: try reminder.optionalText("acked_by"), ackedAt: try reminder.optionalInt("acked_at"),
                note: try reminder.optionalText("note"), fields: Ledger.fields(try reminder.optionalText("fields") ?? "{}"),
                recipients: recipients[reminderID] ?? []))
        }
        return state
    }
}

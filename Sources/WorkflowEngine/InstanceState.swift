import ControlProtocol
import Foundation
import WorkflowModel

/// One instance as the engine works on it: its rows, its pinned definition, in memory.
///
/// A unit of work (`UnitOfWork`) loads each instance it touches once, changes this value, and
/// writes back the rows that changed when it commits; nothing here talks to the database.
struct InstanceState {
    struct Step: Equatable {
        var id: String
        var position: Int
        var state: StepState
        var dueAt: Int64?
        var dueFormula: String?
        var deadlineAt: Int64?
        var doneAt: Int64?
        var lateMillis: Int64 = 0
        var attempts: Int = 0
        /// Why the step failed (shown by `show`, written to the ledger).
        var failure: String?
        /// An external plugin's `output` (`{{steps.<id>.output.<key>}}`), values as text.
        var output: [String: String]?
    }

    struct Reminder: Equatable {
        var id: Int64
        var step: String
        var message: String
        var dueAt: Int64
        var deadlineAt: Int64?
        var level: Int
        var state: ReminderState
        var repeatEvery: String?
        var nextRepeatAt: Int64?
        var nextEscalationAt: Int64?
        var repeats: Int
        var ackedBy: String?
        var ackedAt: Int64?
        var note: String?
        var fields: [String: String]
        /// Everyone who may acknowledge it, with the level at which they were added.
        var recipients: [(user: String, level: Int)]

        var users: [String] { recipients.map(\.user) }

        static func == (lhs: Reminder, rhs: Reminder) -> Bool {
            lhs.id == rhs.id && lhs.step == rhs.step && lhs.message == rhs.message && lhs.dueAt == rhs.dueAt
                && lhs.deadlineAt == rhs.deadlineAt && lhs.level == rhs.level && lhs.state == rhs.state
                && lhs.repeatEvery == rhs.repeatEvery && lhs.nextRepeatAt == rhs.nextRepeatAt
                && lhs.nextEscalationAt == rhs.nextEscalationAt && lhs.repeats == rhs.repeats && lhs.ackedBy == rhs.ackedBy
                && lhs.ackedAt == rhs.ackedAt && lhs.note == rhs.note && lhs.fields == rhs.fields
                && lhs.recipients.elementsEqual(rhs.recipients) { $0.user == $1.user && $0.level == $1.level }
        }
    }

    var id: Int64
    var workflow: String
    var version: String
    var definition: WorkflowDefinition
    var unit: String?
    var params: [String: String]
    var status: InstanceStatus
    var startedAt: Date
    var startedBy: String
    var endedAt: Int64?
    var cancelReason: String?
    var steps: [String: Step]
    var reminders: [Reminder]

    var isRunning: Bool { status == .running }

    /// The earliest instant something of this instance falls due, or nil.
    var nextDue: Int64? {
        guard isRunning else { return nil }
        var earliest: Int64?
        func consider(_ at: Int64?) {
            if let at, earliest.map({ at < $0 }) ?? true { earliest = at }
        }
        for step in steps.values where step.state == .pending { consider(step.dueAt) }
        for reminder in reminders where reminder.state == .open {
            consider(reminder.nextRepeatAt)
            consider(reminder.nextEscalationAt)
        }
        return earliest
    }

    /// The latest acknowledged reminder of a step (what `{{steps.X.acked_by}}` reads).
    func ackedReminder(of step: String) -> Reminder? {
        reminders.last { $0.step == step && $0.state == .acked }
    }

    func reminderIndex(_ id: Int64) -> Int? {
        reminders.firstIndex { $0.id == id }
    }
}

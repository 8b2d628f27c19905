import Foundation

// The results of the workflow-engine commands (`start`, `instances`, `show`, `update`, `cancel`,
// `inbox`, `ack`, `audit`, `clock`); docs/control-protocol.md lists their arguments.
//
// Conventions shared by every type here, because scripts depend on them:
// - keys are snake_case;
// - instants are ISO 8601 strings with the configured zone's offset ("2026-11-25T09:00:00+08:00");
// - an absent value is an explicit JSON `null`: every key is always present (`@NullEncoded`);
//   decoding accepts a missing key as nil too;
// - ids of instances, reminders and ledger rows are integers; step ids are the workflow's strings.

/// The result of `start`: the new instance's id.
public struct StartResult: Codable, Equatable, Sendable {
    public var id: Int
    /// Steps whose due time had already passed at the start (they ran at once, marked late).
    public var pastDueSteps: Int

    public init(id: Int, pastDueSteps: Int = 0) {
        self.id = id
        self.pastDueSteps = pastDueSteps
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(Int.self, forKey: .id)
        pastDueSteps = try container.decodeIfPresent(Int.self, forKey: .pastDueSteps) ?? 0
    }

    enum CodingKeys: String, CodingKey {
        case id
        case pastDueSteps = "past_due_steps"
    }
}

/// One line of `instances`.
public struct InstanceSummary: Codable, Equatable, Sendable {
    public var id: Int
    /// The workflow id.
    public var workflow: String
    /// The content hash of the pinned definition version (tables show its first 12 characters).
    public var version: String
    /// `running`, `completed` or `cancelled`.
    public var state: String
    /// The org-chart unit the instance is for, if any.
    @NullEncoded public var unit: String?
    public var startedAt: String
    @NullEncoded public var endedAt: String?
    /// The Unix user who started it.
    public var startedBy: String
    /// When the next pending thing (a step or a reminder) falls due; nil when nothing is pending.
    @NullEncoded public var nextDue: String?
    /// Reminders not yet acknowledged or cancelled.
    public var openReminders: Int

    public init(id: Int, workflow: String, version: String, state: String, unit: String? = nil, startedAt: String,
                endedAt: String? = nil, startedBy: String, nextDue: String? = nil, openReminders: Int = 0) {
        self.id = id
        self.workflow = workflow
        self.version = version
        self.state = state
        self.unit = unit
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.startedBy = startedBy
        self.nextDue = nextDue
        self.openReminders = openReminders
    }

    enum CodingKeys: String, CodingKey {
        case id, workflow, version, state, unit
        case startedAt = "started_at"
        case endedAt = "ended_at"
        case startedBy = "started_by"
        case nextDue = "next_due"
        case openReminders = "open_reminders"
    }
}

/// One step of an instance, as `show` reports it.
public struct StepDetail: Codable, Equatable, Sendable {
    /// The step id from the workflow file.
    public var id: String
    public var title: String
    /// The plugin: `record`, `remind`, `escalate`, ….
    public var uses: String
    /// `pending`, `due`, `running`, `waiting`, `done`, `failed` or `cancelled`.
    public var state: String
    /// When the step falls (or fell) due; nil while it waits on an `after:` step that is not done.
    @NullEncoded public var due: String?
    /// The formula the due time was derived from, e.g. `election_day - 30 days`.
    @NullEncoded public var dueFormula: String?
    /// The acknowledgement deadline (remind steps).
    @NullEncoded public var deadline: String?
    @NullEncoded public var doneAt: String?
    /// How much later than `due` the step ran (0 when on time), e.g. after downtime.
    public var lateBySeconds: Int
    @NullEncoded public var ackedBy: String?
    @NullEncoded public var ackedAt: String?
    /// The note given with the acknowledgement.
    @NullEncoded public var note: String?
    /// Why the step failed (a formula that did not evaluate, a plugin's reason), when it did.
    @NullEncoded public var failure: String?

    public init(id: String, title: String, uses: String, state: String, due: String? = nil, dueFormula: String? = nil,
                deadline: String? = nil, doneAt: String? = nil, lateBySeconds: Int = 0, ackedBy: String? = nil,
                ackedAt: String? = nil, note: String? = nil, failure: String? = nil) {
        self.failure = failure
        self.id = id
        self.title = title
        self.uses = uses
        self.state = state
        self.due = due
        self.dueFormula = dueFormula
        self.deadline = deadline
        self.doneAt = doneAt
        self.lateBySeconds = lateBySeconds
        self.ackedBy = ackedBy
        self.ackedAt = ackedAt
        self.note = note
    }

    enum CodingKeys: String, CodingKey {
        case id, title, uses, state, due
        case dueFormula = "due_formula"
        case deadline
        case doneAt = "done_at"
        case lateBySeconds = "late_by_seconds"
        case ackedBy = "acked_by"
        case ackedAt = "acked_at"
        case note, failure
    }
}

/// One reminder: a line of `inbox`, the result of `ack`, and part of `show`.
public struct ReminderInfo: Codable, Equatable, Sendable {
    public var id: Int
    /// The instance id.
    public var instance: Int
    /// The workflow id.
    public var workflow: String
    /// The step id.
    public var step: String
    /// The step's title.
    public var title: String
    /// Everyone who may acknowledge it (Unix user names), from every level reached so far.
    public var assignees: [String]
    public var due: String
    /// The acknowledgement deadline.
    @NullEncoded public var deadline: String?
    /// 0 for the first recipients, 1 after the first escalation, ….
    public var level: Int
    public var message: String
    /// `open`, `acked` or `cancelled`.
    public var state: String
    /// Open and past its deadline.
    public var overdue: Bool
    @NullEncoded public var ackedBy: String?
    @NullEncoded public var ackedAt: String?
    @NullEncoded public var note: String?
    /// Values recorded with the acknowledgement (`huaying ack --set key=value`).
    public var fields: [String: String]
    /// The absent assignees the reader stands in for today (`huaying away`); empty when the
    /// reminder is the reader's own.
    public var onBehalfOf: [String]
    /// The latest 催办 (`huaying nudge`) of an open reminder, and who sent it.
    @NullEncoded public var nudgedAt: String?
    @NullEncoded public var nudgedBy: String?

    public init(id: Int, instance: Int, workflow: String, step: String, title: String, assignees: [String], due: String,
                deadline: String? = nil, level: Int = 0, message: String, state: String, overdue: Bool = false,
                ackedBy: String? = nil, ackedAt: String? = nil, note: String? = nil, fields: [String: String] = [:],
                onBehalfOf: [String] = [], nudgedAt: String? = nil, nudgedBy: String? = nil) {
        self.onBehalfOf = onBehalfOf
        self.nudgedAt = nudgedAt
        self.nudgedBy = nudgedBy
        self.id = id
        self.instance = instance
        self.workflow = workflow
        self.step = step
        self.title = title
        self.assignees = assignees
        self.due = due
        self.deadline = deadline
        self.level = level
        self.message = message
        self.state = state
        self.overdue = overdue
        self.ackedBy = ackedBy
        self.ackedAt = ackedAt
        self.note = note
        self.fields = fields
    }

    enum CodingKeys: String, CodingKey {
        case id, instance, workflow, step, title, assignees, due, deadline, level, message, state, overdue
        case ackedBy = "acked_by"
        case ackedAt = "acked_at"
        case note, fields
        case onBehalfOf = "on_behalf_of"
        case nudgedAt = "nudged_at"
        case nudgedBy = "nudged_by"
    }
}

/// The result of `show`: one instance with its timeline and reminders.
public struct InstanceDetail: Codable, Equatable, Sendable {
    public var id: Int
    public var workflow: String
    /// The workflow's title.
    public var title: String
    /// The content hash of the pinned definition version.
    public var version: String
    /// `running`, `completed` or `cancelled`.
    public var state: String
    @NullEncoded public var unit: String?
    public var params: [String: String]
    public var startedAt: String
    public var startedBy: String
    @NullEncoded public var endedAt: String?
    @NullEncoded public var cancelReason: String?
    /// In the workflow's order.
    public var steps: [StepDetail]
    /// Every reminder of the instance, open or not.
    public var reminders: [ReminderInfo]

    public init(id: Int, workflow: String, title: String, version: String, state: String, unit: String? = nil,
                params: [String: String], startedAt: String, startedBy: String, endedAt: String? = nil,
                cancelReason: String? = nil, steps: [StepDetail], reminders: [ReminderInfo] = []) {
        self.id = id
        self.workflow = workflow
        self.title = title
        self.version = version
        self.state = state
        self.unit = unit
        self.params = params
        self.startedAt = startedAt
        self.startedBy = startedBy
        self.endedAt = endedAt
        self.cancelReason = cancelReason
        self.steps = steps
        self.reminders = reminders
    }

    enum CodingKeys: String, CodingKey {
        case id, workflow, title, version, state, unit, params
        case startedAt = "started_at"
        case startedBy = "started_by"
        case endedAt = "ended_at"
        case cancelReason = "cancel_reason"
        case steps, reminders
    }
}

/// The result of `update`: which params changed and which due times were re-derived.
public struct UpdateResult: Codable, Equatable, Sendable {
    /// One changed param.
    public struct ParamChange: Codable, Equatable, Sendable {
        public var param: String
        /// The value before; nil when the param had none (its default applied).
        @NullEncoded public var old: String?
        public var new: String

        public init(param: String, old: String?, new: String) {
            self.param = param
            self.old = old
            self.new = new
        }
    }

    /// One pending step whose due time was derived again from the new params.
    public struct Rederived: Codable, Equatable, Sendable {
        /// The step id.
        public var step: String
        @NullEncoded public var oldDue: String?
        @NullEncoded public var newDue: String?

        public init(step: String, oldDue: String?, newDue: String?) {
            self.step = step
            self.oldDue = oldDue
            self.newDue = newDue
        }

        enum CodingKeys: String, CodingKey {
            case step
            case oldDue = "old_due"
            case newDue = "new_due"
        }
    }

    /// One open reminder brought in line with the new params (text, acknowledgement deadline,
    /// repeats, escalation).
    public struct Rescheduled: Codable, Equatable, Sendable {
        public var reminder: Int
        public var step: String
        public var oldMessage: String
        public var newMessage: String
        @NullEncoded public var oldAckBy: String?
        @NullEncoded public var newAckBy: String?

        public init(reminder: Int, step: String, oldMessage: String, newMessage: String, oldAckBy: String?, newAckBy: String?) {
            self.reminder = reminder
            self.step = step
            self.oldMessage = oldMessage
            self.newMessage = newMessage
            self.oldAckBy = oldAckBy
            self.newAckBy = newAckBy
        }

        enum CodingKeys: String, CodingKey {
            case reminder, step
            case oldMessage = "old_message"
            case newMessage = "new_message"
            case oldAckBy = "old_ack_by"
            case newAckBy = "new_ack_by"
        }
    }

    public var id: Int
    public var changed: [ParamChange]
    public var rederived: [Rederived]
    public var reminders: [Rescheduled]

    public init(id: Int, changed: [ParamChange], rederived: [Rederived], reminders: [Rescheduled] = []) {
        self.id = id
        self.changed = changed
        self.rederived = rederived
        self.reminders = reminders
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(Int.self, forKey: .id)
        changed = try container.decode([ParamChange].self, forKey: .changed)
        rederived = try container.decode([Rederived].self, forKey: .rederived)
        reminders = try container.decodeIfPresent([Rescheduled].self, forKey: .reminders) ?? []
    }

    enum CodingKeys: String, CodingKey {
        case id, changed, rederived, reminders
    }
}

/// The result of `cancel`.
public struct CancelResult: Codable, Equatable, Sendable {
    public var id: Int
    public var cancelledReminders: Int
    public var cancelledSteps: Int

    public init(id: Int, cancelledReminders: Int, cancelledSteps: Int) {
        self.id = id
        self.cancelledReminders = cancelledReminders
        self.cancelledSteps = cancelledSteps
    }

    enum CodingKeys: String, CodingKey {
        case id
        case cancelledReminders = "cancelled_reminders"
        case cancelledSteps = "cancelled_steps"
    }
}

/// One row of the hash-chained ledger.
public struct LedgerRow: Codable, Equatable, Sendable {
    /// The row's position in the ledger (1, 2, …).
    public var seq: Int
    public var at: String
    /// The Unix user, or `huayingd` for what the engine did on its own.
    public var actor: String
    @NullEncoded public var instance: Int?
    @NullEncoded public var step: String?
    /// What happened, e.g. `record`, `remind`, `escalate`, `ack`, `update`, `cancel`.
    public var event: String
    public var text: String
    public var fields: [String: String]
    /// sha256 (hex) of the previous row's hash and this row's canonical form.
    public var hash: String

    public init(seq: Int, at: String, actor: String, instance: Int? = nil, step: String? = nil, event: String,
                text: String, fields: [String: String] = [:], hash: String) {
        self.seq = seq
        self.at = at
        self.actor = actor
        self.instance = instance
        self.step = step
        self.event = event
        self.text = text
        self.fields = fields
        self.hash = hash
    }
}

/// What checking the ledger's hash chain found.
public struct LedgerVerification: Codable, Equatable, Sendable {
    public var ok: Bool
    public var rowsChecked: Int
    /// The first row whose hash does not match; nil when `ok`.
    @NullEncoded public var firstBadSeq: Int?
    /// Why that row failed; nil when `ok`.
    @NullEncoded public var reason: String?

    public init(ok: Bool, rowsChecked: Int, firstBadSeq: Int? = nil, reason: String? = nil) {
        self.ok = ok
        self.rowsChecked = rowsChecked
        self.firstBadSeq = firstBadSeq
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case ok
        case rowsChecked = "rows_checked"
        case firstBadSeq = "first_bad_seq"
        case reason
    }
}

/// The result of `audit`.
public struct AuditResult: Codable, Equatable, Sendable {
    /// In ledger order (by `seq`): a page of at most `limit` rows after `after_seq` (a
    /// verification returns no rows unless `rows` is asked).
    public var rows: [LedgerRow]
    /// The chain check; null unless `verify` was asked.
    @NullEncoded public var verification: LedgerVerification?

    public init(rows: [LedgerRow], verification: LedgerVerification? = nil) {
        self.rows = rows
        self.verification = verification
    }
}

/// The result of `clock`.
public struct ClockResult: Codable, Equatable, Sendable {
    /// `real` or `simulated`.
    public var mode: String
    /// The clock's instant after the move (if any).
    public var now: String
    /// How many timed items (steps, repeats, escalations) ran while the clock moved.
    public var stepsRun: Int

    public init(mode: String, now: String, stepsRun: Int = 0) {
        self.mode = mode
        self.now = now
        self.stepsRun = stepsRun
    }

    enum CodingKeys: String, CodingKey {
        case mode, now
        case stepsRun = "steps_run"
    }
}

/// The duration syntax of `clock advance`: whole numbers with a unit, `w` (weeks), `d` (days),
/// `h` (hours) or `m` (minutes), written together without spaces: `3d`, `90m`, `1d12h`, `1w2d`.
/// Shared by the CLI (to refuse bad input before asking the daemon) and the daemon.
public enum ClockDuration {
    /// The duration in seconds, or nil when `text` is not in the syntax above (or is zero).
    public static func seconds(in text: String) -> Int? {
        var total = 0
        var digits = ""
        var sawUnit = false
        for character in text {
            if character.isASCII, character.isNumber {
                digits.append(character)
                guard digits.count <= 9 else { return nil }
                continue
            }
            let unit: Int
            switch character {
            case "w": unit = 7 * 86_400
            case "d": unit = 86_400
            case "h": unit = 3600
            case "m": unit = 60
            default: return nil
            }
            guard let amount = Int(digits) else { return nil }
            let (product, overflow) = amount.multipliedReportingOverflow(by: unit)
            guard !overflow else { return nil }
            let (sum, overflow2) = total.addingReportingOverflow(product)
            guard !overflow2 else { return nil }
            total = sum
            digits = ""
            sawUnit = true
        }
        guard sawUnit, digits.isEmpty, total > 0 else { return nil }
        return total
    }
}

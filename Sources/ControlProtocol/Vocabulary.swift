/// The words the engine, the daemon and the CLI share: states, ledger events and refusal
/// codes. Each is defined here once; the JSON output and the ledger use the raw values, which
/// are stable (`docs/cli.md`, `docs/engine.md`). The transitions between the states are the
/// engine's (`WorkflowEngine/StateMachine.swift`).

/// Where one step of an instance is.
public enum StepState: String, Codable, Sendable, CaseIterable {
    /// Not yet due (its due instant may not be derivable yet: it waits for other steps).
    case pending
    /// Due, handed to an external plugin's outbox but not started (external plugins only).
    case due
    /// An external plugin is working on it.
    case running
    /// A reminder is open; the step completes when it is acknowledged.
    case waiting
    case done
    case failed
    case cancelled

    /// Whether nothing will happen to the step any more.
    public var isFinal: Bool { self == .done || self == .failed || self == .cancelled }
}

/// Where one reminder is.
public enum ReminderState: String, Codable, Sendable, CaseIterable {
    case open
    case acked
    case cancelled
}

/// Where one workflow instance is.
public enum InstanceStatus: String, Codable, Sendable, CaseIterable {
    case running
    case completed
    case cancelled
}

/// The `state` of an outbox row: an external effect (an exec step, a chat notification) waiting
/// for its result, or given one (docs/plugins.md).
public enum OutboxRowState: String, Codable, Sendable, CaseIterable {
    case pending, running, done, failed, cancelled
    /// As an SQL literal (`'pending'`), for the engine's queries.
    public var sql: String { "'\(rawValue)'" }
}

/// The `kind` of an outbox row.
public enum OutboxRowKind: String, Codable, Sendable, CaseIterable {
    /// An external step plugin's attempt.
    case step
    /// A reminder for a chat notifier.
    case notify
    public var sql: String { "'\(rawValue)'" }
}

/// The `event` of a ledger row.
public enum LedgerEvent: String, Codable, Sendable, CaseIterable {
    case instanceStarted = "instance.started"
    case instanceUpdated = "instance.updated"
    case instanceCancelled = "instance.cancelled"
    case instanceCompleted = "instance.completed"
    case stepRecorded = "step.recorded"
    case stepRetry = "step.retry"
    /// A step was handed to an external plugin (an outbox row with its idempotency key).
    case stepHanded = "step.handed"
    /// An admin retried a failed step (`huaying retry`).
    case stepRetried = "step.retried"
    case stepFailed = "step.failed"
    case reminderSent = "reminder.sent"
    case reminderRepeated = "reminder.repeated"
    case reminderRescheduled = "reminder.rescheduled"
    case reminderEscalated = "reminder.escalated"
    case reminderAcknowledged = "reminder.acknowledged"
    /// A supervisor sent an open reminder again now (催办).
    case reminderNudged = "reminder.nudged"
    /// Someone is away and names a substitute for a window of days (请假/代理).
    case absenceRecorded = "absence.recorded"
    case escalationFailed = "escalation.failed"
    /// A chat notification of a reminder failed for good (the inbox still has the reminder).
    case notificationFailed = "notification.failed"
    case chainStarted = "chain.started"
    case chainSkipped = "chain.skipped"
    case chainFailed = "chain.failed"
    case triggerFailed = "trigger.failed"
    /// Another instance names this one in an `instance` parameter (a voter-list objection of an election).
    case instanceLinked = "instance.linked"
    /// The chain is keyed (HMAC-SHA256) from this row on.
    case ledgerKeyed = "ledger.keyed"
    /// The state was restored from a backup older than the anchored head.
    case stateRestored = "state.restored"
}

/// Why a request was refused: stable for scripts (`docs/cli.md` lists each with its meaning).
public enum RefusalCode: String, Codable, Sendable, CaseIterable {
    // The request itself
    case malformedRequest = "malformed_request"
    case unsupportedVersion = "unsupported_version"
    case requestTooLarge = "request_too_large"
    case unknownCommand = "unknown_command"
    case badArguments = "bad_arguments"
    case busy
    // Who asks
    case notAdmin = "not_admin"
    case notVisible = "not_visible"
    case unknownUser = "unknown_user"
    case notRecipient = "not_recipient"
    /// A substitute window that would make people stand in for each other (A→B→A).
    case substituteCycle = "substitute_cycle"
    // What it names
    case unknownWorkflow = "unknown_workflow"
    case unknownVersion = "unknown_version"
    case brokenVersion = "broken_version"
    case unknownInstance = "unknown_instance"
    case unknownReminder = "unknown_reminder"
    case unknownField = "unknown_field"
    case badField = "bad_field"
    case prerequisiteMissing = "prerequisite_missing"
    case unknownStep = "unknown_step"
    case badParams = "bad_params"
    /// `start`: a running instance of the workflow for the same unit was started with the same
    /// params and values (`--allow-duplicate` starts it anyway).
    case duplicateInstance = "duplicate_instance"
    // The state it finds
    case notRunning = "not_running"
    case alreadyAcknowledged = "already_acknowledged"
    case cancelled
    case notFailed = "not_failed"
    // The clock
    case realClock = "real_clock"
    case clockBackwards = "clock_backwards"
    case clockJumpTooLarge = "clock_jump_too_large"
    case clockBusy = "clock_busy"
    // The daemon
    case storeError = "store_error"
    case shuttingDown = "shutting_down"
    case internalError = "internal_error"
    /// A client's word for an answer that failed without saying why (never sent by the daemon).
    case unknown
    case idleTimeout = "idle_timeout"
    case noteTooLong = "note_too_long"
    case stateLost = "state_lost"
    // Backups
    case backupRunning = "backup_running"
    case cannotWrite = "cannot_write"
    case fileExists = "file_exists"
    case notPermitted = "not_permitted"
    case unknownJob = "unknown_job"
}

extension ControlError {
    /// A refusal with one of the defined codes.
    public init(_ code: RefusalCode, _ message: String) {
        self.init(code: code.rawValue, message: message)
    }

    /// The code as one of the defined ones (nil for a code this CLI does not know: a newer daemon).
    public var refusal: RefusalCode? { RefusalCode(rawValue: code) }
}

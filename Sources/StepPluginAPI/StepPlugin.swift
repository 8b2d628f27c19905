import Foundation

/// A step type: `record`, `remind`, `escalate`, or an external one through the exec bridge.
///
/// The engine calls `run` when a step falls due (and, for the plugin named in a step's
/// `ack.escalate.uses`, once per escalation level). A plugin decides *what* happens; the engine
/// makes it durable: the step's transition, the reminder rows and the ledger rows that follow
/// from an outcome commit in one transaction with it.
///
/// - Important: `run` is called on the daemon's loop thread and must not block: it computes an
///   outcome from its context and returns. Work that takes time belongs in an external plugin.
public protocol StepPlugin: Sendable {
    /// The name used in a workflow's `uses:`.
    var name: String { get }
    /// What the plugin accepts in `with:` (checked when a workflow file loads; a default
    /// that accepts anything is given for plugins that declare nothing).
    var inputSchema: StepInputSchema { get }
    /// Decides what the step does now.
    func run(_ context: StepContext) -> StepOutcome
}

/// A plugin's input: the step's `with:` block, with every `{{…}}` placeholder already filled in.
public indirect enum PluginValue: Sendable, Equatable {
    case text(String)
    case list([PluginValue])
    case mapping([Entry])

    public struct Entry: Sendable, Equatable {
        public var key: String
        public var value: PluginValue
        public init(key: String, value: PluginValue) {
            self.key = key
            self.value = value
        }
    }

    public subscript(key: String) -> PluginValue? {
        if case let .mapping(entries) = self { return entries.first { $0.key == key }?.value }
        return nil
    }

    public var text: String? {
        if case let .text(text) = self { return text }
        return nil
    }

    /// A text as a one-element list, a list as itself.
    public var items: [PluginValue] {
        switch self {
        case .list(let items): items
        default: [self]
        }
    }
}

/// Someone a reminder goes to.
public struct Person: Sendable, Hashable {
    /// The Unix user name (how the person acknowledges).
    public var user: String
    public var name: String
    public init(user: String, name: String) {
        self.user = user
        self.name = name
    }
}

/// What the engine offers a running plugin: the org chart and the calendar, without exposing
/// either's types.
public protocol StepServices {
    /// The holders of an org-chart reference such as `civil-affairs@township`, seen from the
    /// instance's unit.
    /// - Throws: `StepProblem` naming the unit and role when nobody holds it.
    func resolve(_ reference: String) throws(StepProblem) -> [Person]
    /// An instant plus a duration written as in workflow files (`1 workday`, `2 days`, `3 hours`).
    func add(_ duration: String, to instant: Date) throws(StepProblem) -> Date
}

/// A problem a plugin reports in words for the ledger and the log.
public struct StepProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Everything a plugin knows about the step it runs for.
public struct StepContext {
    public var instanceID: Int64
    public var workflowID: String
    public var stepID: String
    public var stepTitle: String
    /// The instance's own unit (the `unit` parameter), if it has one.
    public var unitID: String?
    /// The engine clock's current instant.
    public var now: Date
    /// When this step (or this escalation level) fell due.
    public var due: Date
    /// The step's deadline, when it has one.
    public var deadline: Date?
    /// The rendered `with:` block (for an escalation: the `ack.escalate.with:` block).
    public var input: PluginValue?
    /// For an escalation: the open reminder being escalated.
    public var reminder: ReminderSnapshot?
    public var services: any StepServices

    public init(instanceID: Int64, workflowID: String, stepID: String, stepTitle: String, unitID: String?, now: Date,
                due: Date, deadline: Date?, input: PluginValue?, reminder: ReminderSnapshot? = nil, services: any StepServices) {
        self.instanceID = instanceID
        self.workflowID = workflowID
        self.stepID = stepID
        self.stepTitle = stepTitle
        self.unitID = unitID
        self.now = now
        self.due = due
        self.deadline = deadline
        self.input = input
        self.reminder = reminder
        self.services = services
    }
}

/// An open reminder, as an escalation plugin sees it.
public struct ReminderSnapshot: Sendable, Equatable {
    public var id: Int64
    /// 0 = the first recipients, 1 = the first escalation, …
    public var level: Int
    public var message: String
    public var recipients: [String]
    public init(id: Int64, level: Int, message: String, recipients: [String]) {
        self.id = id
        self.level = level
        self.message = message
        self.recipients = recipients
    }
}

/// What a step does, decided by its plugin.
public enum StepOutcome: Sendable, Equatable {
    /// The step is done; the note goes into the ledger.
    case completed(LedgerNote)
    /// Put a reminder in these people's inboxes; the step completes when one of them acknowledges.
    case awaitAcknowledgement(ReminderRequest)
    /// An escalation level was reached: these people can now see and acknowledge the reminder.
    /// `next` is when the following level falls due, or nil when the chain is exhausted.
    case escalated(level: Int, to: [Person], note: LedgerNote, next: Date?)
    /// The step could not run; `retryAt` nil means give up (the step fails, the ledger says why).
    case failed(reason: String, retryAt: Date?)
}

/// A ledger entry's words: free text plus named fields.
public struct LedgerNote: Sendable, Equatable {
    public var text: String
    public var fields: [String: String]
    public init(text: String, fields: [String: String] = [:]) {
        self.text = text
        self.fields = fields
    }
}

/// A reminder to create.
public struct ReminderRequest: Sendable, Equatable {
    public var recipients: [Person]
    public var message: String
    public init(recipients: [Person], message: String) {
        self.recipients = recipients
        self.message = message
    }
}

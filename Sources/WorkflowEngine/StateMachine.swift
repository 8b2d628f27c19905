import ControlProtocol

/// The engine's three state machines, each one table: which event moves a state where. The
/// engine changes a state only through `next(_:on:)`, so a transition that is not in a table
/// is a programming error caught in tests (it traps in debug builds and keeps the state in
/// release builds), and `docs/engine.md` is checked against `EngineStateTables.markdown`.
struct TransitionTable<State: RawRepresentable & Equatable & Sendable, Event: RawRepresentable & Equatable & Sendable>: Sendable
where State.RawValue == String, Event.RawValue == String {
    /// What the table is of ("step", "reminder", "instance"), for messages and the docs.
    let name: String
    let rows: [(from: [State], event: Event, to: State)]

    func next(_ state: State, on event: Event) -> State {
        guard let row = rows.first(where: { $0.event == event && $0.from.contains(state) }) else {
            assertionFailure("\(name): no transition from \(state.rawValue) on \(event.rawValue)")
            return state
        }
        return row.to
    }

    /// The table as markdown: `| step from | event | to |`.
    var markdown: String {
        var out = "| \(name) from | event | to |\n|---|---|---|\n"
        for row in rows {
            out += "| \(row.from.map { "`\($0.rawValue)`" }.joined(separator: ", ")) | \(row.event.rawValue) | `\(row.to.rawValue)` |\n"
        }
        return out
    }
}

/// What happens to a step.
enum StepEvent: String, CaseIterable {
    /// An external plugin's request was written to the outbox.
    case hand = "handed to a plugin"
    /// The plugin started working on it.
    case start = "plugin started"
    /// The attempt did not complete; the outbox tries again later (or after a restart).
    case retry = "plugin to retry"
    /// An admin's `huaying retry`: the failed step runs again.
    case retryByAdmin = "retried by an admin"
    case complete = "completed"
    case awaitAcknowledgement = "reminder sent"
    case acknowledge = "acknowledged"
    case fail = "failed"
    case cancel = "instance cancelled"
}

/// What happens to a reminder.
enum ReminderEvent: String, CaseIterable {
    case acknowledge = "acknowledged"
    case cancel = "instance cancelled"
}

/// What happens to an instance.
enum InstanceEvent: String, CaseIterable {
    case complete = "no step can run any more"
    case cancel = "cancelled"
    /// An admin retried a failed step of a completed instance.
    case reopen = "step retried"
}

enum StepStateMachine {
    static let table = TransitionTable<StepState, StepEvent>(name: "step", rows: [
        ([.pending], .hand, .due),
        ([.due], .start, .running),
        ([.running], .retry, .due),
        ([.failed], .retryByAdmin, .pending),
        ([.pending, .running], .complete, .done),
        ([.pending, .running], .awaitAcknowledgement, .waiting),
        ([.waiting], .acknowledge, .done),
        ([.pending, .due, .running, .waiting], .fail, .failed),
        ([.pending, .due, .running, .waiting], .cancel, .cancelled),
    ])
    static func next(_ state: StepState, on event: StepEvent) -> StepState { table.next(state, on: event) }
}

enum ReminderStateMachine {
    static let table = TransitionTable<ReminderState, ReminderEvent>(name: "reminder", rows: [
        ([.open], .acknowledge, .acked),
        ([.open], .cancel, .cancelled),
    ])
    static func next(_ state: ReminderState, on event: ReminderEvent) -> ReminderState { table.next(state, on: event) }
}

enum InstanceStatusMachine {
    static let table = TransitionTable<InstanceStatus, InstanceEvent>(name: "instance", rows: [
        ([.running], .complete, .completed),
        ([.running], .cancel, .cancelled),
        ([.completed], .reopen, .running),
    ])
    static func next(_ state: InstanceStatus, on event: InstanceEvent) -> InstanceStatus { table.next(state, on: event) }
}

/// The three tables as the markdown `docs/engine.md` shows (a test keeps them equal).
public enum EngineStateTables {
    public static var markdown: String {
        [StepStateMachine.table.markdown, ReminderStateMachine.table.markdown, InstanceStatusMachine.table.markdown]
            .joined(separator: "\n")
    }
}

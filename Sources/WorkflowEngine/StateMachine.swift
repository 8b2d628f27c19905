import ControlProtocol

/// The engine's three state machines, each one table: which event moves a state where. The
/// engine changes a state only through `next(_:on:)`, so a transition that is not in the table
/// is a programming error caught in tests (it traps in debug builds and keeps the state in
/// release builds), and `docs/engine.md` is checked against `markdown` by a test.

/// What happens to a step.
enum StepEvent: String, CaseIterable {
    /// An external plugin's request was written to the outbox.
    case hand = "handed to a plugin"
    /// The plugin started working on it.
    case start = "plugin started"
    case complete = "completed"
    case awaitAcknowledgement = "reminder sent"
    case acknowledge = "acknowledged"
    case fail = "failed"
    case cancel = "instance cancelled"
}

enum StepStateMachine {
    static let table: [(from: [StepState], event: StepEvent, to: StepState)] = [
        ([.pending], .hand, .due),
        ([.due], .start, .running),
        ([.pending, .running], .complete, .done),
        ([.pending, .running], .awaitAcknowledgement, .waiting),
        ([.waiting], .acknowledge, .done),
        ([.pending, .due, .running, .waiting], .fail, .failed),
        ([.pending, .due, .running, .waiting], .cancel, .cancelled),
    ]

    static func next(_ state: StepState, on event: StepEvent) -> StepState {
        guard let row = table.first(where: { $0.event == event && $0.from.contains(state) }) else {
            assertionFailure("step: no transition from \(state) on \(event)")
            return state
        }
        return row.to
    }
}

/// What happens to a reminder.
enum ReminderEvent: String, CaseIterable {
    case acknowledge = "acknowledged"
    case cancel = "instance cancelled"
}

enum ReminderStateMachine {
    static let table: [(from: [ReminderState], event: ReminderEvent, to: ReminderState)] = [
        ([.open], .acknowledge, .acked),
        ([.open], .cancel, .cancelled),
    ]

    static func next(_ state: ReminderState, on event: ReminderEvent) -> ReminderState {
        guard let row = table.first(where: { $0.event == event && $0.from.contains(state) }) else {
            assertionFailure("reminder: no transition from \(state) on \(event)")
            return state
        }
        return row.to
    }
}

/// What happens to an instance.
enum InstanceEvent: String, CaseIterable {
    case complete = "no step can run any more"
    case cancel = "cancelled"
}

enum InstanceStatusMachine {
    static let table: [(from: [InstanceStatus], event: InstanceEvent, to: InstanceStatus)] = [
        ([.running], .complete, .completed),
        ([.running], .cancel, .cancelled),
    ]

    static func next(_ state: InstanceStatus, on event: InstanceEvent) -> InstanceStatus {
        guard let row = table.first(where: { $0.event == event && $0.from.contains(state) }) else {
            assertionFailure("instance: no transition from \(state) on \(event)")
            return state
        }
        return row.to
    }
}

/// The three tables as the markdown `docs/engine.md` shows (a test keeps them equal).
public enum EngineStateTables {
    public static var markdown: String {
        func table<S: RawRepresentable, E: RawRepresentable>(_ title: String, _ rows: [(from: [S], event: E, to: S)]) -> String
        where S.RawValue == String, E.RawValue == String {
            var out = "| \(title) from | event | to |\n|---|---|---|\n"
            for row in rows {
                out += "| \(row.from.map { "`\($0.rawValue)`" }.joined(separator: ", ")) | \(row.event.rawValue) | `\(row.to.rawValue)` |\n"
            }
            return out
        }
        return [table("step", StepStateMachine.table), table("reminder", ReminderStateMachine.table),
                table("instance", InstanceStatusMachine.table)].joined(separator: "\n")
    }
}

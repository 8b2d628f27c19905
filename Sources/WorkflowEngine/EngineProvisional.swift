import ControlProtocol
import Foundation
import Logging
import WorkflowModel

/// The years the daemon has already warned about (once each, until the calendars are reloaded).
/// - Important: loop-confined, like the engine that owns it.
final class ProvisionalYearWarnings {
    var warned: Set<Int> = []
}

@available(*, unavailable)
extension ProvisionalYearWarnings: Sendable {}

/// Dates in a year the calendar does not cover are provisional (docs/procedures.md
/// #calendar-fails-closed): answers and ledger rows say so, and the daemon logs one warning per
/// such year.
extension WorkflowEngine {
    /// The years among `dates` that `workflow`'s calendar lacks, sorted; the first time a year
    /// is seen the daemon logs a warning naming it.
    public func provisionalYears(_ dates: [Date?], workflow: String) -> [Int] {
        let calendar = registry.current[workflow].map { support.calendar(for: $0.definition) }
            ?? support.calendars.calendars["cn-mainland"]
        guard let calendar else { return [] }
        var years: Set<Int> = []
        for date in dates.compactMap({ $0 }) {
            let day = LocalDateTime(date, in: support.timeZone).date
            if calendar.isProvisional(day) { years.insert(day.year) }
        }
        for year in years.sorted() where provisionalWarnings.warned.insert(year).inserted {
            logger.warning("calendar lacks a year: its dates are provisional", metadata: [
                "calendar.id": "\(calendar.id)", "year": "\(year)",
                "basis": "\(calendar.provisionalBasis(year: year))",
                "hint": "add the State Council's holiday notice for \(year) to the calendars folder; pending dates are derived again when it is loaded",
            ])
        }
        return years.sorted()
    }

    /// The provisional years of every pending or open date of an instance in memory — its
    /// steps' due times and deadlines (a pending step's deadline from its formula, when it can
    /// be computed yet, with the instance's bound `context`), its open reminders' due times and
    /// acknowledgement deadlines — in all and per step. `start`, `update` and `show` compute
    /// them from the instance they already hold (nothing is read back).
    func provisionalYears(of state: InstanceState, context: InstanceContext?) throws -> (all: [Int], steps: [String: [Int]]) {
        var perStep: [String: [Date?]] = [:]
        for (id, step) in state.steps { perStep[id] = [step.dueAt.map(Millis.date), step.deadlineAt.map(Millis.date)] }
        if let context {
            for step in state.definition.steps where state.steps[step.id.value]?.state == .pending {
                for expression in [step.at, step.deadline].compactMap({ $0 }) {
                    do {
                        perStep[step.id.value, default: []].append(try expression.value.evaluate(in: context.environment).instant)
                    } catch {
                        continue  // waits for a step not done yet: no date to mark
                    }
                }
            }
        }
        var steps: [String: [Int]] = [:]
        var all: [Date?] = []
        for (id, step) in state.steps where !step.state.isFinal {
            steps[id] = provisionalYears(perStep[id] ?? [], workflow: state.workflow)
            all += perStep[id] ?? []
        }
        for reminder in state.reminders where reminder.state == .open {
            all += [Millis.date(reminder.dueAt), reminder.deadlineAt.map(Millis.date)]
        }
        return (provisionalYears(all, workflow: state.workflow), steps)
    }

    /// Ledger fields for a row about these dates: `provisional_years` when any is provisional.
    func provisionalFields(_ dates: [Date?], workflow: String) -> [String: String] {
        let years = provisionalYears(dates, workflow: workflow)
        return years.isEmpty ? [:] : ["provisional_years": years.map(String.init).joined(separator: ",")]
    }
}

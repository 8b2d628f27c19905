import ControlProtocol
import Foundation
import WorkflowEngine
import WorkflowModel

// `agenda`, `whoami` and the duplicate check of `start`: read-only queries beside the
// engine commands of EngineCommandHandlers.swift, answered with the wire types of
// ControlProtocol/AgendaMessages.swift.
extension EngineCommandHandlers {
    /// The most instances one `agenda` answer looks at; the CLI pages with `before`, so a
    /// county's worth of instances never holds the loop for long. Their steps and open
    /// reminders are read in two queries for the page (`openWork(of:)`). Measured on a debug
    /// build at load 8 (2 cores), 300 instances: a page of 100 took 12–57 ms (55–85 ms when each
    /// instance was loaded whole); a page of 5, 1.1 ms.
    static let agendaPageLimit = 50

    /// `agenda`: the steps not yet done of the running instances the caller may see (an admin
    /// acting as a staff member: those the staff member sees), or those
    /// `under` a unit), dated by their open reminder's acknowledgement deadline or their due
    /// time, within [`from`, `until`) plus every overdue one; with `overdue`, only those.
    ///
    /// `from`: a local date or date-time (default: now); `until`: a local date (inclusive),
    /// a date-time, or `+DURATION` after `from` (default: `+7d`).
    func agenda(_ arguments: Arguments, _ grant: Authorization.Grant) throws -> AgendaResult {
        let now = engine.clock.now
        var from = now
        if let text = arguments.optionalString("from") {
            guard let parsed = DaemonTime.parse(text, zone: timeZone) else {
                throw ControlError(.badArguments, "agenda: from '\(text)' is not a date; expected 2026-12-01 or 2026-12-01T09:00")
            }
            from = parsed
        }
        let until = try agendaUntil(arguments.optionalString("until") ?? "+7d", from: from)
        guard until > from else {
            throw ControlError(.badArguments, "agenda: until (\(DaemonTime.iso8601(until, zone: timeZone))) is not after from (\(DaemonTime.iso8601(from, zone: timeZone)))")
        }
        let onlyOverdue = arguments.bool("overdue")

        var filter = WorkflowEngine.InstanceFilter(state: .running)
        let chart = engine.support.orgChart
        // An admin acting for a staff member (--as) sees that person's agenda.
        var scope = grant.units
        if scope == nil, grant.user != grant.actor, let member = chart?.member(user: grant.user) {
            scope = Set(member.assignments.map(\.unit))
        }
        if let scope {
            filter.units = units(atOrBelow: scope)
            filter.orRemindersOf = grant.user
        }
        if let under = arguments.optionalString("under") {
            guard chart?.units[under] != nil else {
                throw ControlError(.badArguments, "agenda: --under '\(under)' is not a unit of the org chart")
            }
            filter.onlyUnits = units(atOrBelow: [under])
        }
        filter.limit = Self.agendaPageLimit
        filter.before = try arguments.optionalInt("before")

        let summaries = try engine.instances(filter)
        let work = try engine.openWork(of: summaries.map(\.id))
        var items: [AgendaItem] = []
        for summary in summaries {
            guard let view = work[summary.id] else { continue }
            for step in view.steps {
                guard let due = step.due else { continue }
                let open = view.reminders.filter { $0.step == step.id }
                let reminder = open.max { $0.level < $1.level }
                let at = reminder?.deadline ?? reminder?.due ?? due
                let overdue = reminder?.overdue ?? (step.deadline.map { $0 < now } ?? false)
                let inWindow = at >= from && at < until
                guard onlyOverdue ? overdue : (overdue || inWindow) else { continue }
                var item = AgendaItem(
                    at: DaemonTime.iso8601(at, zone: timeZone), instance: Int(summary.id), workflow: summary.workflow,
                    title: view.title, unit: summary.unit, unitName: summary.unit.flatMap { chart?.units[$0]?.name },
                    step: step.id, stepTitle: step.title, state: step.state,
                    due: DaemonTime.iso8601(due, zone: timeZone), deadline: step.deadline.map { DaemonTime.iso8601($0, zone: timeZone) },
                    ackBy: reminder?.deadline.map { DaemonTime.iso8601($0, zone: timeZone) }, reminder: reminder.map { Int($0.id) },
                    assignees: reminder?.assignees ?? [], level: reminder?.level ?? 0, overdue: overdue,
                    escalated: (reminder?.level ?? 0) > 0)
                item.provisionalYears = engine.provisionalYears([due, step.deadline, reminder?.deadline], workflow: summary.workflow)
                item.provisional = !item.provisionalYears.isEmpty
                items.append(item)
            }
        }
        items.sort { ($0.at, $0.instance, $0.step) < ($1.at, $1.instance, $1.step) }
        let next = summaries.count >= Self.agendaPageLimit ? summaries.last.map { Int($0.id) } : nil
        return AgendaResult(from: DaemonTime.iso8601(from, zone: timeZone), until: DaemonTime.iso8601(until, zone: timeZone),
                            items: items, nextBefore: next)
    }

    /// `until`: `+DURATION` after `from`, a local date (up to its end), or a date-time.
    private func agendaUntil(_ text: String, from: Date) throws -> Date {
        if text.hasPrefix("+") {
            guard let seconds = ClockDuration.seconds(in: String(text.dropFirst())) else {
                throw ControlError(.badArguments, "agenda: until '\(text)' is not a duration; expected e.g. +7d, +2w, +36h")
            }
            return from.addingTimeInterval(TimeInterval(seconds))
        }
        if let date = CivilDate(text) { return LocalDateTime(date: date.adding(days: 1), time: .midnight).instant(in: timeZone) }
        guard let parsed = DaemonTime.parse(text, zone: timeZone) else {
            throw ControlError(.badArguments, "agenda: until '\(text)' is not a date; expected 2026-12-08, 2026-12-08T18:00 or +7d")
        }
        return parsed
    }

    /// `whoami`: the person requests act for, their roles and the units they see.
    func whoami(_ grant: Authorization.Grant) -> WhoamiResult {
        let chart = engine.support.orgChart
        let member = chart?.member(user: grant.user)
        let roles = (member?.assignments ?? []).map { assignment in
            WhoamiResult.Role(role: assignment.role, roleName: chart?.roles[assignment.role]?.title ?? assignment.role,
                              unit: assignment.unit, unitName: chart?.units[assignment.unit]?.name ?? assignment.unit)
        }
        return WhoamiResult(user: grant.user, actor: grant.actor, name: member?.name, admin: grant.units == nil,
                            inOrgChart: member != nil, roles: roles, units: grant.units.map { $0.sorted() })
    }

    /// `start` with `refuse_duplicate` (the CLI's default): a running instance of the same
    /// workflow for the same unit (`params.unit`) started with the same params and values. A
    /// request naming other params is not a duplicate: the engine then judges its params
    /// (a missing or unknown one is `bad_params`, not `duplicate_instance`).
    func duplicate(of workflow: String, params: [String: String]) throws -> Int64? {
        try engine.runningInstance(of: workflow, unit: params["unit"], params: params)
    }
}

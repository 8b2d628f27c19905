import Foundation

/// The instances one occurrence of a `trigger:` starts, side by side: the parameters each
/// unit gets (`trigger.spread`), and the people who would have to be in two places at once.
public enum TriggerSchedule {
    /// The parameters of each unit's instance at one occurrence: `unit`, and with
    /// `trigger.spread` the spread parameter — its default for the first unit under each
    /// parent, `every` later for the next one (org-chart order), and so on.
    public static func params(for units: [String], of definition: WorkflowDefinition, chart: OrgChart?,
                              planner: WorkflowPlanner, start: Date, timeZone: TimeZone, calendar: WorkCalendar) -> [String: [String: String]] {
        var result: [String: [String: String]] = [:]
        var seen: [String: Int] = [:]  // parent → units so far
        for unit in units {
            var params = ["unit": unit]
            if let spread = definition.trigger?.spread,
               let bound = try? planner.bind(params, for: definition, start: start).params,
               let text = bound.first(where: { $0.name == spread.param })?.value, let first = CivilDate(text) {
                let parent = chart?.units[unit]?.parent ?? ""
                let index = seen[parent, default: 0]
                seen[parent] = index + 1
                var instant = LocalDateTime(date: first, time: definition.defaultTime).instant(in: timeZone)
                for _ in 0..<index { instant = spread.every.added(to: instant, calendar: calendar, timeZone: timeZone) }
                params[spread.param] = LocalDateTime(instant, in: timeZone).date.description
            }
            result[unit] = params
        }
        return result
    }

    /// Warnings for the occurrence after `now`: a person named by a step with a fixed time of
    /// day (a meeting: `at: … at HH:MM`) in two units' instances at the same instant.
    public static func conflicts(_ definition: WorkflowDefinition, chart: OrgChart, calendar: WorkCalendar,
                                 timeZone: TimeZone, now: Date) -> [Diagnostic] {
        guard let trigger = definition.trigger else { return [] }
        let occurrence = trigger.occurrence(after: now, timeZone: timeZone, defaultTime: definition.defaultTime)
        let start = occurrence.instant(in: timeZone)
        let units = chart.unitOrder.filter { trigger.unitKinds.contains(chart.units[$0]!.kind) }
        let planner = WorkflowPlanner(calendar: calendar, orgChart: chart, timeZone: timeZone)
        let params = self.params(for: units, of: definition, chart: chart, planner: planner, start: start, timeZone: timeZone, calendar: calendar)
        let meetings = definition.steps.filter { $0.at?.value.timeOfDay != nil && $0.with?["to"] != nil }
        var booked: [String: [String]] = [:]  // "step|instant|user" → units
        var names: [String: String] = [:]
        for unit in units {
            guard let plan = try? planner.plan(definition, params: params[unit] ?? ["unit": unit], start: start, now: start) else { continue }
            for step in meetings {
                guard let planned = plan.steps.first(where: { $0.id == step.id.value }) else { continue }
                for person in planned.assignees.flatMap(\.people) {
                    booked["\(step.id.value)|\(planned.due.local)|\(person.user)", default: []].append(unit)
                    names[person.user] = person.name
                }
            }
        }
        var found: [Diagnostic] = []
        for (key, clashing) in booked.sorted(by: { $0.key < $1.key }) where clashing.count > 1 {
            let parts = key.split(separator: "|").map(String.init)
            guard let step = definition.step(parts[0]), let location = step.at?.location else { continue }
            let who = "\(names[parts[2]] ?? parts[2]) (\(parts[2]))"
            let where_ = clashing.prefix(4).map { chart.label(of: $0) }.joined(separator: ", ") + (clashing.count > 4 ? " …" : "")
            found.append(.warning(location, "at the \(trigger.key(of: occurrence)) occurrence \(who) must attend '\(step.id.value)' of \(clashing.count) units at the same time, \(parts[1].replacingOccurrences(of: "T", with: " ")): \(where_); expected 'trigger.spread' (or meeting days given per unit)"))
        }
        return found
    }
}

import Foundation

/// The dated timeline of one (not yet started) instance, for `huaying plan`.
public struct WorkflowPlan: Sendable {
    public struct Param: Sendable, Equatable {
        public var name: String
        public var title: String
        public var value: String
        /// How the value is shown: "古桥社区 (guqiao-shequ)", "2026-12-20 周日".
        public var display: String
        /// Taken from `default:`.
        public var isDefault: Bool
    }

    public var workflowID: String
    public var title: String
    public var file: String
    public var calendarID: String
    public var timeZone: String
    public var start: PlannedTime
    public var params: [Param]
    public var steps: [PlannedStep]
    /// Problems for the whole plan (uncovered years, unresolved roles).
    public var warnings: [String]
}

/// A computed instant with everything worth showing about it.
public struct PlannedTime: Sendable, Equatable {
    public var local: LocalDateTime
    public var instant: Date
    /// The formula it came from, in canonical text ("election_day - 20 days").
    public var formula: String?
    public var dayKind: DayKind
    public var provisional: Bool
    /// Before the time the plan was made.
    public var isPast: Bool
    /// The date before an adjustment moved it.
    public var movedFrom: CivilDate?
    /// Depends on when earlier steps complete; computed as if each completes when it falls due.
    public var isEstimate: Bool

    public var date: CivilDate { local.date }
}

/// Who a step or an escalation level goes to.
public struct PlannedAssignee: Sendable, Equatable {
    public struct Person: Sendable, Equatable {
        public var user: String
        public var name: String
    }

    public var reference: String
    public var unitID: String?
    public var unitName: String?
    public var people: [Person]
    /// Why nobody could be found.
    public var problem: String?
}

/// One escalation level.
public struct PlannedEscalation: Sendable, Equatable {
    public var level: Int
    public var at: PlannedTime
    public var to: PlannedAssignee
}

/// One step of a plan.
public struct PlannedStep: Sendable, Equatable {
    public var id: String
    public var title: String
    public var uses: String
    public var after: [String]
    public var due: PlannedTime
    public var deadline: PlannedTime?
    /// When an unacknowledged reminder starts escalating.
    public var ackBy: PlannedTime?
    public var repeatEvery: String?
    public var assignees: [PlannedAssignee]
    public var escalations: [PlannedEscalation]
}

/// A plan that cannot be made: a parameter is missing, unknown or malformed.
public struct PlanError: Error, Sendable, CustomStringConvertible {
    public var messages: [String]
    public init(_ messages: [String]) { self.messages = messages }
    public var description: String { messages.joined(separator: "\n") }
}

/// Computes plans from definitions.
public struct WorkflowPlanner: Sendable {
    public var calendar: WorkCalendar
    public var orgChart: OrgChart?
    public var timeZone: TimeZone
    /// The deployment's settings (`settings.<name>` in formulas; HuayingConfig.settings).
    public var settings: [String: Int] = [:]

    public init(calendar: WorkCalendar, orgChart: OrgChart?, timeZone: TimeZone) {
        self.calendar = calendar
        self.orgChart = orgChart
        self.timeZone = timeZone
    }

    /// Checks given parameter values against the definition and fills in defaults.
    /// - Throws: `PlanError` naming every unknown, missing or malformed parameter and the choices.
    public func bind(_ given: [String: String], for definition: WorkflowDefinition, start: Date) throws(PlanError) -> (environment: TimeEnvironment, params: [WorkflowPlan.Param]) {
        var problems: [String] = []
        let names = definition.params.map(\.name)
        for name in given.keys.sorted() where !names.contains(name) {
            problems.append("unknown parameter '\(name)'; expected one of: \(names.isEmpty ? "(none)" : names.joined(separator: ", "))")
        }
        var environment = TimeEnvironment(calendar: calendar, timeZone: timeZone, defaultTime: definition.defaultTime, start: start)
        environment.settings = settings
        var values: [String: String] = [:]
        var defaults: Set<String> = []
        for param in definition.params {
            guard let value = given[param.name] else {
                if param.defaultText == nil {
                    problems.append("missing parameter '\(param.name)' (\(param.title), \(param.type.rawValue)); give it with --param \(param.name)=\(example(for: param))")
                }
                continue
            }
            switch param.type {
            case .date:
                if let date = CivilDate(value) { environment.dates[param.name] = date } else {
                    problems.append("parameter '\(param.name)' must be a date YYYY-MM-DD; found '\(value)'")
                }
            case .datetime:
                if let dateTime = LocalDateTime(value) { environment.dateTimes[param.name] = dateTime } else {
                    problems.append("parameter '\(param.name)' must be a date and time YYYY-MM-DDTHH:MM (optionally :SS, .mmm, and Z or ±HH:MM); found '\(value)'")
                }
            case .number:
                if Int(value) == nil { problems.append("parameter '\(param.name)' must be a whole number; found '\(value)'") }
            case .instance:
                if Int(value).map({ $0 < 1 }) ?? true { problems.append("parameter '\(param.name)' is an instance id such as 12 (huaying instances); found '\(value)'") }
            case .unit:
                if let problem = unitProblem(value, param: param) { problems.append(problem) }
            case .text:
                break
            }
            values[param.name] = value
        }
        // Defaults, possibly depending on each other: evaluate until nothing changes.
        var pending = definition.params.filter { given[$0.name] == nil && $0.defaultText != nil }
        while !pending.isEmpty {
            var progressed = false
            for param in pending {
                if let expression = param.defaultExpression {
                    guard let value = try? expression.evaluate(in: environment) else { continue }
                    if param.type == .date {
                        environment.dates[param.name] = value.date
                        values[param.name] = value.date.description
                    } else {
                        environment.dateTimes[param.name] = value.local
                        values[param.name] = value.local.description
                    }
                } else if let text = param.defaultText {
                    values[param.name] = text
                }
                defaults.insert(param.name)
                pending.removeAll { $0.name == param.name }
                progressed = true
            }
            if !progressed {
                // Defaults that read a parameter already reported add nothing.
                if problems.isEmpty {
                    problems += pending.map { param in
                        var reason = ""
                        if let expression = param.defaultExpression {
                            do {
                                _ = try expression.evaluate(in: environment)
                            } catch {
                                if case TimeEvaluationError.missingSetting = error { reason = ": \(error)" }
                            }
                        }
                        return "cannot compute the default of '\(param.name)' (\(param.defaultText ?? ""))\(reason); give it with --param"
                    }
                }
                break
            }
        }
        guard problems.isEmpty else { throw PlanError(problems) }
        let params = definition.params.map { param in
            let value = values[param.name] ?? ""
            return WorkflowPlan.Param(name: param.name, title: param.title, value: value,
                                      display: display(value, type: param.type), isDefault: defaults.contains(param.name))
        }
        return (environment, params)
    }

    private func example(for param: ParamDefinition) -> String {
        switch param.type {
        case .unit: orgChart?.unitOrder.first { id in param.kinds?.contains(orgChart!.units[id]!.kind) ?? true } ?? "UNIT-ID"
        case .date: "2026-12-20"
        case .datetime: "2026-12-20T09:00"
        case .number: "1"
        case .instance: "12"
        case .text: "TEXT"
        }
    }

    private func unitProblem(_ value: String, param: ParamDefinition) -> String? {
        guard let chart = orgChart else { return nil }
        let allowed = chart.unitOrder.filter { param.kinds?.contains(chart.units[$0]!.kind) ?? true }
        guard let unit = chart.units[value] else {
            return "parameter '\(param.name)': unknown unit '\(value)'; expected one of: \(allowed.map { chart.label(of: $0) }.joined(separator: ", "))"
        }
        if let kinds = param.kinds, !kinds.contains(unit.kind) {
            return "parameter '\(param.name)': \(chart.label(of: value)) is a \(unit.kind.rawValue); expected a unit of kind \(kinds.map(\.rawValue).joined(separator: " or "))"
        }
        return nil
    }

    private func display(_ value: String, type: ParamType) -> String {
        switch type {
        case .unit: orgChart?.label(of: value) ?? value
        case .date: CivilDate(value).map { "\($0) \($0.weekday.chineseName)" } ?? value
        default: value
        }
    }

    /// The dated timeline of an instance started at `start` with `params`.
    /// - Parameter now: what counts as past.
    /// - Throws: `PlanError` for bad parameters.
    public func plan(_ definition: WorkflowDefinition, params given: [String: String], start: Date, now: Date) throws(PlanError) -> WorkflowPlan {
        var (environment, params) = try bind(given, for: definition, start: start)
        let unitID = given["unit"] ?? definition.param("unit")?.defaultText
        var warnings: [String] = []
        var planned: [String: PlannedStep] = [:]
        var estimated: Set<String> = []

        func time(_ evaluated: EvaluatedTime, formula: String?, estimate: Bool) -> PlannedTime {
            PlannedTime(local: evaluated.local, instant: evaluated.instant, formula: formula, dayKind: evaluated.dayKind,
                        provisional: evaluated.provisional, isPast: evaluated.instant < now,
                        movedFrom: evaluated.movedFrom, isEstimate: estimate)
        }
        func time(_ instant: Date, formula: String?, estimate: Bool, provisional: Bool = false) -> PlannedTime {
            let local = LocalDateTime(instant, in: timeZone)
            return PlannedTime(local: local, instant: instant, formula: formula, dayKind: calendar.kind(of: local.date),
                               provisional: provisional || !calendar.covers(year: local.date.year),
                               isPast: instant < now, movedFrom: nil, isEstimate: estimate)
        }
        func assignee(_ reference: RoleReference) -> PlannedAssignee {
            var result = PlannedAssignee(reference: reference.description, people: [])
            guard let chart = orgChart else {
                result.problem = "no org chart loaded"
                return result
            }
            guard let unitID else {
                result.problem = "the workflow has no 'unit' parameter"
                return result
            }
            do {
                let (unit, holders) = try chart.resolve(reference, from: unitID)
                result.unitID = unit.id
                result.unitName = unit.name
                result.people = holders.map { .init(user: $0.user, name: $0.name) }
            } catch {
                result.problem = error.message
                if !warnings.contains(error.message) { warnings.append(error.message) }
            }
            return result
        }

        for step in topologicalOrder(definition.steps) {
            let dependencies = step.dependencies.map(\.value)
            let isEstimate = dependencies.contains { estimated.contains($0) || planned[$0] != nil }
            let readyAt = dependencies.compactMap { planned[$0]?.due.instant }.max()
            var due: PlannedTime
            if let at = step.at {
                guard let evaluated = try? at.value.evaluate(in: environment) else { continue }
                due = time(evaluated, formula: at.value.description, estimate: isEstimate)
                if let readyAt, readyAt > due.instant {
                    due = time(readyAt, formula: "after \(dependencies.joined(separator: ", "))", estimate: true)
                }
            } else if let readyAt {
                due = time(readyAt, formula: "after \(dependencies.joined(separator: ", "))", estimate: true)
            } else {
                due = time(start, formula: "start", estimate: false)
            }
            if due.isEstimate { estimated.insert(step.id.value) }
            // Assume each step completes when it falls due, for the steps that wait for it.
            environment.completions[step.id.value] = due.instant

            var deadline: PlannedTime?
            if let expression = step.deadline, let evaluated = try? expression.value.evaluate(in: environment) {
                deadline = time(evaluated, formula: expression.value.description, estimate: !expression.value.steps.isEmpty)
            }
            var ackBy: PlannedTime?
            var escalations: [PlannedEscalation] = []
            if let ack = step.ack {
                if let within = ack.within {
                    let instant = within.added(to: due.instant, calendar: calendar, timeZone: timeZone)
                    ackBy = time(instant, formula: "due + \(within)", estimate: due.isEstimate)
                } else {
                    ackBy = deadline
                }
                if let escalate = ack.escalate, let ackBy {
                    var at = EscalationTime.sent(at: ackBy.instant, calendar: calendar, timeZone: timeZone, workdayStart: definition.defaultTime)
                    let moved = at != ackBy.instant
                    for (index, reference) in escalate.chain.enumerated() {
                        if index > 0, let every = escalate.every {
                            at = every.added(to: at, calendar: calendar, timeZone: timeZone)
                        }
                        let formula = index == 0 ? (moved ? "no ack by then; a day off: next workday" : "no ack by then") : "+ \(escalate.every?.description ?? "")"
                        escalations.append(PlannedEscalation(level: index + 1, at: time(at, formula: formula, estimate: ackBy.isEstimate), to: assignee(reference)))
                    }
                }
            }
            var assignees: [PlannedAssignee] = []
            if let to = step.with?["to"] {
                let references = (to.items ?? [to]).compactMap { $0.string.flatMap(RoleReference.init) }
                assignees = references.map(assignee)
            }
            planned[step.id.value] = PlannedStep(
                id: step.id.value, title: step.title, uses: step.uses.value, after: step.after.map(\.value),
                due: due, deadline: deadline, ackBy: ackBy, repeatEvery: step.ack?.repeat?.description,
                assignees: assignees, escalations: escalations
            )
        }
        let steps = definition.steps.compactMap { planned[$0.id.value] }
        let allTimes = steps.flatMap { [$0.due, $0.deadline, $0.ackBy].compactMap { $0 } + $0.escalations.map(\.at) }
        let uncovered = Set(allTimes.filter(\.provisional).map(\.date.year)).sorted()
        if !uncovered.isEmpty {
            let covered = calendar.coveredYears.map(String.init).joined(separator: ", ")
            warnings.insert("calendar '\(calendar.id)' does not cover \(uncovered.map(String.init).joined(separator: ", ")) (it covers \(covered)): those dates count \(calendar.provisionalBasis(year: uncovered[0])) and are provisional", at: 0)
        }
        return WorkflowPlan(
            workflowID: definition.id.value, title: definition.title, file: definition.file,
            calendarID: calendar.id, timeZone: timeZone.identifier,
            start: time(start, formula: "start", estimate: false), params: params, steps: steps, warnings: warnings
        )
    }

    /// Steps in an order where each comes after the steps it waits for (which order among the
    /// others does not change any step's times); steps in a cycle (which the checker reports)
    /// come last, in file order. Kahn's algorithm: linear in steps and dependencies, no recursion.
    private func topologicalOrder(_ steps: [StepDefinition]) -> [StepDefinition] {
        var index: [String: Int] = [:]
        for (position, step) in steps.enumerated() where index[step.id.value] == nil { index[step.id.value] = position }
        var waiting = [Int](repeating: 0, count: steps.count)
        var dependents = [[Int]](repeating: [], count: steps.count)
        for (position, step) in steps.enumerated() {
            // Unknown steps are not waited for; each dependency counts once.
            let known = Set(step.dependencies.compactMap { index[$0.value] }).subtracting([position])
            waiting[position] = known.count
            for dependency in known { dependents[dependency].append(position) }
        }
        var ready = steps.indices.filter { waiting[$0] == 0 }
        var next = 0
        var result: [StepDefinition] = []
        var placed = [Bool](repeating: false, count: steps.count)
        while next < ready.count {
            let position = ready[next]
            next += 1
            result.append(steps[position])
            placed[position] = true
            for dependent in dependents[position] {
                waiting[dependent] -= 1
                if waiting[dependent] == 0 { ready.append(dependent) }
            }
        }
        return result + steps.indices.filter { !placed[$0] }.map { steps[$0] }
    }
}

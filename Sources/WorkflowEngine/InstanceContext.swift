import ControlProtocol
import Foundation
import StepPluginAPI
import WorkflowModel

/// The calendar, org chart and zone an engine computes with.
public struct EngineSupport: Sendable {
    public var calendars: CalendarLibrary
    public var orgChart: OrgChart?
    public var timeZone: TimeZone
    /// The deployment's `settings.<name>` amounts (HuayingConfig.settings).
    public var settings: [String: Int] = [:]

    public init(calendars: CalendarLibrary, orgChart: OrgChart?, timeZone: TimeZone) {
        self.calendars = calendars
        self.orgChart = orgChart
        self.timeZone = timeZone
    }

    /// The calendar a definition names (an empty weekends-only calendar if it vanished).
    func calendar(for definition: WorkflowDefinition) -> WorkCalendar {
        calendars.calendars[definition.calendar.value] ?? WorkCalendar(id: definition.calendar.value, title: definition.calendar.value, years: [])
    }

    func planner(for definition: WorkflowDefinition) -> WorkflowPlanner {
        var planner = WorkflowPlanner(calendar: calendar(for: definition), orgChart: orgChart, timeZone: timeZone)
        planner.settings = settings
        return planner
    }
}

/// Time formulas, templates and org-chart lookups for one loaded instance.
struct InstanceContext: StepServices {
    let support: EngineSupport
    let instance: InstanceState
    let environment: TimeEnvironment
    /// `{{item}}`: the current element of a `then.for_each` list.
    var item: String?
    /// `{{deadline}}` and `{{ack_by}}`: the computed times of the step being rendered.
    var stepTimes: (deadline: Date?, ackBy: Date?)?

    /// A context over an instance whose parameters were bound once (`bind`) for the unit of
    /// work: only the completions are read from the instance as it is now.
    init(support: EngineSupport, instance: InstanceState, bound: TimeEnvironment) {
        self.support = support
        self.instance = instance
        var environment = bound
        for step in instance.steps.values {
            if step.state == .done, let done = step.doneAt { environment.completions[step.id] = Millis.date(done) }
        }
        for reminder in instance.reminders where reminder.state == .acked {
            for (name, value) in reminder.fields {
                if let date = CivilDate(value) { environment.fieldDates["\(reminder.step).\(name)"] = date }
            }
        }
        self.environment = environment
    }

    /// Binds an instance's parameters into the time environment its formulas evaluate in.
    /// - Throws: `EngineError` `bad_params` when they no longer bind (the org chart or the
    ///   calendar changed under a running instance).
    static func bind(_ instance: InstanceState, support: EngineSupport) throws(EngineError) -> TimeEnvironment {
        do {
            return try support.planner(for: instance.definition)
                .bind(instance.params, for: instance.definition, start: instance.startedAt).environment
        } catch {
            throw EngineError(.badParams, error.description)
        }
    }

    var calendar: WorkCalendar { environment.calendar }

    // MARK: StepServices

    func resolve(_ reference: String) throws(StepProblem) -> [Person] {
        guard let parsed = RoleReference(reference) else { throw StepProblem("'\(reference)' is not a role@unit reference") }
        guard let chart = support.orgChart else { throw StepProblem("no org chart is loaded") }
        guard let unit = instance.unit else { throw StepProblem("the instance has no 'unit' parameter to resolve \(reference) from") }
        do {
            return try chart.resolve(parsed, from: unit).holders.map { Person(user: $0.user, name: $0.name) }
        } catch {
            throw StepProblem(error.message)
        }
    }

    func add(_ duration: String, to instant: Date) throws(StepProblem) -> Date {
        do {
            return try TimeOffset.parse(duration).added(to: instant, calendar: calendar, timeZone: support.timeZone)
        } catch {
            throw StepProblem(error.message)
        }
    }

    // MARK: Templates

    /// Fills every `{{…}}` of a `with:` value.
    func render(_ value: YAMLValue) -> PluginValue {
        switch value {
        case let .text(text, _): .text(render(text))
        case let .list(items, _): .list(items.map(render))
        case let .mapping(entries, _): .mapping(entries.map { .init(key: $0.key, value: render($0.value)) })
        }
    }

    func render(_ template: String) -> String {
        Template.render(template, value(of:))
    }

    private func value(of text: String) -> String {
        guard let reference = try? Template.reference(text) else { return "{{\(text)}}" }
        switch reference {
        case let .param(name, attribute):
            if name == "instance" { return "\(instance.id)" }
            let raw = instance.params[name]
                ?? environment.dates[name]?.description
                ?? environment.dateTimes[name]?.description
                ?? ""
            guard let attribute else {
                if let chart = support.orgChart, instance.definition.param(name)?.type == .unit, let unit = chart.units[raw] {
                    return unit.name
                }
                return raw
            }
            guard let chart = support.orgChart, let unit = chart.units[raw] else { return raw }
            return chart.value(ofAttribute: attribute, for: unit) ?? "{{\(text)}}"
        case let .step(id, field):
            let step = instance.steps[id]
            let reminder = instance.ackedReminder(of: id)
            switch field {
            case "done": return step?.doneAt.map { Self.local(Millis.date($0), support.timeZone) } ?? ""
            case "acked_by": return reminder?.ackedBy ?? ""
            case "acked_at": return reminder?.ackedAt.map { Self.local(Millis.date($0), support.timeZone) } ?? ""
            case "note": return reminder?.note ?? ""
            case _ where field.hasPrefix("fields."): return reminder?.fields[String(field.dropFirst("fields.".count))] ?? ""
            case _ where field.hasPrefix("output."): return step?.output?[String(field.dropFirst("output.".count))] ?? ""
            default: return ""
            }
        case let .builtIn(name):
            switch name {
            case "start": return Self.local(instance.startedAt, support.timeZone)
            case "workflow.id": return instance.workflow
            case "workflow.title": return instance.definition.title
            case "instance.id": return "\(instance.id)"
            case "item": return item ?? ""
            case "deadline": return stepTimes?.deadline.map { Template.latestDayText(LocalDateTime($0, in: support.timeZone)) } ?? "{{\(text)}}"
            case "ack_by": return stepTimes?.ackBy.map { Template.latestDayText(LocalDateTime($0, in: support.timeZone)) } ?? "{{\(text)}}"
            default: return ""
            }
        case let .time(expression):
            guard let evaluated = try? expression.evaluate(in: environment) else { return "{{\(text)}}" }
            return evaluated.date.description
        }
    }

    static func local(_ date: Date, _ zone: TimeZone) -> String {
        let local = LocalDateTime(date, in: zone)
        return local.description.replacingOccurrences(of: "T", with: " ")
    }
}

import ArgumentParser
import ControlProtocol
import Foundation
import WorkflowModel

/// `huaying plan WORKFLOW --param k=v… [--start T]`: the dated timeline of one instance, offline.
struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Message.abstractPlan(),
        discussion: """
            WORKFLOW is a workflow file or the id of one in the configured workflows folder. \
            For each step: when it falls due (with the weekday), its deadline, who gets it \
            (resolved through the org chart) and when it escalates. Marks: [day off: …] a \
            weekend or holiday, [provisional] a year the calendar does not cover, [past] \
            before now, [moved from …] shifted by an adjustment, [est.] depends on when \
            earlier steps complete (assumed: when they fall due). Exits 1 when the workflow \
            has errors, 2 for bad parameters.
            """
    )

    @OptionGroup var globals: GlobalOptions

    @Flag(name: .long, help: "Print the plan as JSON.")
    var json = false

    @Argument(help: ArgumentHelp("A workflow file or workflow id.", valueName: "workflow"))
    var workflow: String

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp("A parameter value (repeatable), e.g. --param election_day=2026-12-20.", valueName: "name=value"))
    var param: [String] = []

    @Option(name: .long, help: ArgumentHelp("When the instance starts: YYYY-MM-DD, YYYY-MM-DDTHH:MM or now (default: now).", valueName: "time"))
    var start: String = "now"

    @Option(name: .long, help: ArgumentHelp("What counts as now when marking past dates (default: the current time).", valueName: "time"))
    var now: String = "now"

    /// `--param` is read as `start` reads it: name=value, each name once.
    func validate() throws { _ = try givenParams() }

    func givenParams() throws -> [String: String] {
        try KeyValueOption.parse(param, option: "--param", example: "election_day=2026-12-20")
    }

    func run() throws {
        let plan = try makePlan()
        if json {
            try printJSON(PlanJSON(plan))
        } else {
            print(Self.render(plan))
        }
    }

    /// The plan, its findings printed on stderr (`start --dry-run` renders it itself).
    /// - Throws: `ExitCode` when the workflow, a time or a parameter cannot be used.
    func makePlan() throws -> WorkflowPlan {
        let config = try globals.loadConfig()
        let zone = config.timeZone
        guard let startInstant = OfflineOutput.instant(start, zone: zone) else {
            printError(Message.planBadTime("--start", start))
            throw ExitCode(ExitStatus.usage)
        }
        guard let nowInstant = OfflineOutput.instant(now, zone: zone) else {
            printError(Message.planBadTime("--now", now))
            throw ExitCode(ExitStatus.usage)
        }
        guard let path = WorkflowLocator.path(for: workflow, in: config.workflowsDirectory) else {
            let ids = WorkflowLocator.ids(in: config.workflowsDirectory)
            printError(Message.planNoWorkflow(workflow, ids.isEmpty ? Message.planNoneIn(OfflineOutput.shortPath(config.workflowsDirectory)) : ids.joined(separator: ", ")))
            throw ExitCode(ExitStatus.usage)
        }
        let support = SupportFiles(config: config)
        for diagnostic in support.diagnostics where diagnostic.severity == .error {
            printError(OfflineOutput.text(of: diagnostic))
        }
        let result = support.checker.check(path: path)
        for diagnostic in result.diagnostics { printError(OfflineOutput.text(of: diagnostic)) }
        guard let definition = result.definition else { throw ExitCode(ExitStatus.failed) }
        guard let calendar = support.calendars[definition.calendar.value] else {
            printError("error: calendar '\(definition.calendar.value)' could not be loaded")
            throw ExitCode(ExitStatus.failed)
        }
        var planner = WorkflowPlanner(calendar: calendar, orgChart: support.orgChart, timeZone: zone)
        planner.settings = support.settings
        let params = try givenParams()
        do {
            return try planner.plan(definition, params: params, start: startInstant, now: nowInstant)
        } catch {
            for message in error.messages { printError("error: \(message)") }
            throw ExitCode(ExitStatus.usage)
        }
    }

    // MARK: Text

    static func render(_ plan: WorkflowPlan) -> String {
        var lines: [String] = []
        lines.append("\(plan.workflowID)  \(plan.title)  (\(OfflineOutput.shortPath(plan.file)))")
        for param in plan.params {
            lines.append("  \(param.name) = \(param.display)\(param.isDefault ? Message.planDefault() : "")")
        }
        lines.append(Message.planStart(OfflineOutput.day(plan.start.date), plan.start.local.clockText, plan.calendarID, plan.timeZone))
        lines.append("")
        var rows: [[String]] = [[Message.headerNumber(), Message.headerStep(), Message.headerDue(), Message.headerDeadline(), Message.headerWho()]]
        for (index, step) in plan.steps.enumerated() {
            let who = step.assignees.isEmpty ? (step.uses == "record" ? Message.planRecord() : "—") : step.assignees.map(assignee).joined(separator: "; ")
            rows.append(["\(index + 1)", step.id, time(step.due), step.deadline.map(time) ?? "", who])
            rows.append(["", "  " + step.title, "", "", ""])
            if let ackBy = step.ackBy, step.ack(differsFrom: step.deadline) {
                var note = Message.planAckBy(time(ackBy))
                if let every = step.repeatEvery { note += Message.planRemindedEvery(every) }
                rows.append(["", "", note, "", ""])
            } else if let every = step.repeatEvery {
                rows.append(["", "", Message.planRemindedUntilAck(every), "", ""])
            }
            for escalation in step.escalations {
                rows.append(["", Message.planEscalate(escalation.level), time(escalation.at), "", assignee(escalation.to)])
            }
        }
        lines.append(TextFormatting.table(rows))
        if !plan.warnings.isEmpty {
            lines.append("")
            lines += plan.warnings.map { Message.planWarning($0) }
        }
        return lines.joined(separator: "\n")
    }

    static func time(_ time: PlannedTime) -> String {
        var text = "\(OfflineOutput.day(time.date)) \(time.local.clockText)"
        if let from = time.movedFrom { text += Message.planMovedFrom(from) }
        if !time.dayKind.isWorkday {
            text += Message.planDayOff(time.dayKind.holidayName ?? Message.planWeekend())
        }
        if time.provisional { text += Message.planProvisional() }
        if time.isEstimate { text += Message.planEstimate() }
        if time.isPast { text += Message.planPast() }
        return text
    }

    static func assignee(_ assignee: PlannedAssignee) -> String {
        if let problem = assignee.problem { return "\(assignee.reference): ✗ \(problem)" }
        let people = assignee.people.map { "\($0.name)(\($0.user))" }.joined(separator: ", ")
        return "\(assignee.unitName ?? "")·\(assignee.reference.split(separator: "@")[0]): \(people)"
    }
}

extension PlannedStep {
    /// Whether the acknowledgement time is worth its own line (it is not just the deadline).
    func ack(differsFrom deadline: PlannedTime?) -> Bool {
        guard let ackBy else { return false }
        return ackBy.instant != deadline?.instant
    }
}

/// The JSON shape of a plan, in the conventions of every `--json` (docs/cli.md): snake_case
/// keys, every key present (null when absent), instants with the configured zone's offset.
struct PlanJSON: Encodable {
    struct Time: Codable, Equatable, Sendable {
        var local: String
        var date: String
        var weekday: String
        var instant: String
        @NullEncoded var formula: String?
        var dayKind: String
        @NullEncoded var holiday: String?
        var provisional: Bool
        var past: Bool
        var estimate: Bool
        @NullEncoded var movedFrom: String?

        init(_ time: PlannedTime, zone: TimeZone) {
            local = time.local.description
            date = time.date.description
            weekday = time.date.weekday.rawValue
            instant = EngineOutput.isoInstant(time.instant, zone: zone)
            formula = time.formula
            dayKind = time.dayKind.code
            holiday = time.dayKind.holidayName
            provisional = time.provisional
            past = time.isPast
            estimate = time.isEstimate
            movedFrom = time.movedFrom?.description
        }

        enum CodingKeys: String, CodingKey {
            case local, date, weekday, instant, formula
            case dayKind = "day_kind"
            case holiday, provisional, past, estimate
            case movedFrom = "moved_from"
        }
    }

    struct Assignee: Encodable {
        struct Person: Encodable {
            var user: String
            var name: String
        }

        var reference: String
        @NullEncoded var unit: String?
        @NullEncoded var unitName: String?
        var people: [Person]
        @NullEncoded var problem: String?

        init(_ assignee: PlannedAssignee) {
            reference = assignee.reference
            unit = assignee.unitID
            unitName = assignee.unitName
            people = assignee.people.map { .init(user: $0.user, name: $0.name) }
            problem = assignee.problem
        }

        enum CodingKeys: String, CodingKey {
            case reference, unit
            case unitName = "unit_name"
            case people, problem
        }
    }

    struct Escalation: Encodable {
        var level: Int
        var at: Time
        var to: Assignee
    }

    struct Step: Encodable {
        var id: String
        var title: String
        var uses: String
        var after: [String]
        var due: Time
        @NullEncoded var deadline: Time?
        @NullEncoded var ackBy: Time?
        @NullEncoded var repeatEvery: String?
        var assignees: [Assignee]
        var escalations: [Escalation]

        enum CodingKeys: String, CodingKey {
            case id, title, uses, after, due, deadline
            case ackBy = "ack_by"
            case repeatEvery = "repeat_every"
            case assignees, escalations
        }
    }

    struct Param: Encodable {
        var name: String
        var title: String
        var value: String
        var isDefault: Bool

        enum CodingKeys: String, CodingKey {
            case name, title, value
            case isDefault = "is_default"
        }
    }

    var workflow: String
    var title: String
    var file: String
    var calendar: String
    var timeZone: String
    var start: Time
    var params: [Param]
    var steps: [Step]
    var warnings: [String]

    enum CodingKeys: String, CodingKey {
        case workflow, title, file, calendar
        case timeZone = "time_zone"
        case start, params, steps, warnings
    }

    init(_ plan: WorkflowPlan) {
        let zone = TimeZone(identifier: plan.timeZone) ?? TimeZone(identifier: "UTC")!
        workflow = plan.workflowID
        title = plan.title
        file = OfflineOutput.shortPath(plan.file)
        calendar = plan.calendarID
        timeZone = plan.timeZone
        start = Time(plan.start, zone: zone)
        params = plan.params.map { .init(name: $0.name, title: $0.title, value: $0.value, isDefault: $0.isDefault) }
        steps = plan.steps.map { step in
            Step(id: step.id, title: step.title, uses: step.uses, after: step.after, due: Time(step.due, zone: zone),
                 deadline: step.deadline.map { Time($0, zone: zone) }, ackBy: step.ackBy.map { Time($0, zone: zone) },
                 repeatEvery: step.repeatEvery, assignees: step.assignees.map(Assignee.init),
                 escalations: step.escalations.map { Escalation(level: $0.level, at: Time($0.at, zone: zone), to: Assignee($0.to)) })
        }
        warnings = plan.warnings
    }
}

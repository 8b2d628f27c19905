import ArgumentParser
import ControlProtocol
import Foundation
import WorkflowModel

/// `huaying start WORKFLOW --param k=v… [--under UNIT --kind KIND] [--allow-duplicate] [--dry-run]`:
/// starts an instance (or one per matching unit) and prints its id.
struct Start: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Message.abstractStart(),
        discussion: """
            WORKFLOW is the id of a workflow the daemon has loaded. The instance is pinned to \
            the workflow's current version; its due times are derived from the params now. \
            Check the dates first with `huaying plan WORKFLOW --param …` (or `--dry-run`). \
            With --under UNIT --kind KIND, one instance is started per unit of that kind at or \
            below UNIT in the org chart (its `unit` param set to the unit), and a summary says \
            what was started and what refused; the exit code is 4 when any was refused. \
            A start is refused (duplicate_instance) when an instance of the workflow is running \
            for the same unit, started with the same params and values, unless --allow-duplicate.
            """
    )

    @OptionGroup var globals: GlobalOptions

    @Flag(name: .long, help: "Print {\"id\": N, \"past_due_steps\": N} (with --under: {\"started\": […], \"refused\": […]}) for scripts.")
    var json = false

    @Argument(help: ArgumentHelp("The workflow id.", valueName: "workflow"))
    var workflow: String

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp("A parameter value (repeatable), e.g. --param election_day=2026-12-20.", valueName: "name=value"))
    var param: [String] = []

    @Flag(name: .long, help: "Start nothing: print the dated plan the instance would follow from the daemon's clock, as `huaying plan` does, from the configured workflows folder.")
    var dryRun = false

    @Option(name: .long, help: ArgumentHelp("Start one instance per unit at or below this one (with --kind).", valueName: "unit"))
    var under: String?

    @Option(name: .long, help: ArgumentHelp("With --under: the kind of unit to start for (village, community, township, street, county, city).", valueName: "kind"))
    var kind: String?

    @Flag(name: .long, help: "Start even when an instance of the workflow runs for the same unit with the same params.")
    var allowDuplicate = false

    func validate() throws {
        guard !workflow.isEmpty else { throw ValidationError("the workflow id is empty") }
        let params = try params()
        if (under == nil) != (kind == nil) { throw ValidationError("--under and --kind go together, e.g. --under lushi --kind village") }
        if let kind, UnitKind(rawValue: kind) == nil {
            throw ValidationError("--kind '\(kind)' is not a kind of unit; expected one of: \(UnitKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if under != nil, params["unit"] != nil { throw ValidationError("--under sets the unit param for each unit; do not give --param unit=… too") }
    }

    func params() throws -> [String: String] {
        try KeyValueOption.parse(param, option: "--param", example: "election_day=2026-12-20")
    }

    func run() throws {
        if let under, let kind {
            try runBulk(under: under, kind: kind)
            return
        }
        if dryRun {
            try dryRun(param)
            return
        }
        let result = try EngineOutput.call("start", arguments: arguments(params()), globals: globals, as: StartResult.self)
        if json {
            try printJSON(result)
        } else {
            print(Message.startStarted(result.id, workflow))
            if let note = ProvisionalMark.note(result.provisionalYears) { print(note) }
            if result.pastDueSteps > 0 { print(Message.startPastDue(result.pastDueSteps, result.id)) }
        }
    }

    private func arguments(_ params: [String: String]) -> [String: JSONValue] {
        ["workflow": .string(workflow), "params": EngineOutput.object(params), "refuse_duplicate": .bool(!allowDuplicate)]
    }

    /// The plan from the daemon's clock (a simulated one may be far from today), or from the
    /// current time when no daemon answers (said on stderr), and how many of its steps a start
    /// would run at once because they are already past due (as `start` says after starting).
    private func dryRun(_ items: [String]) throws {
        var timing: [String] = []
        if let now = daemonNow() {
            timing = ["--start", now, "--now", now]
        } else {
            printError(Message.startDryRunNoDaemon())
        }
        var command = try Plan.parse([workflow] + items.flatMap { ["--param", $0] } + timing)
        command.globals = globals
        let plan = try command.makePlan()
        if json {
            try printJSON(PlanJSON(plan))
        } else {
            print(Plan.render(plan))
            let pastDue = plan.steps.filter(\.due.isPast).count
            if pastDue > 0 { print(Message.startDryRunPastDue(pastDue)) }
        }
    }

    /// The daemon's clock as a local `YYYY-MM-DDTHH:MM` (it writes instants in the configured
    /// zone), or nil when it cannot be asked.
    private func daemonNow() -> String? {
        guard let path = try? globals.socketPath(), let client = try? ControlClient(socketPath: path),
              let response = try? client.call(ControlRequest(command: "clock", actAs: globals.actAs)), response.ok,
              let result = response.result, let clock = try? ControlCoding.convert(result, to: ClockResult.self)
        else { return nil }
        return String(clock.now.prefix(16))
    }

    /// The units of `kind` at or below `under`, in the org chart's order.
    private func units(under: String, kind: String) throws -> [String] {
        let config = try globals.loadConfig()
        // Only the org chart: not the calendars and plugins SupportFiles would read as well.
        let chart: OrgChart
        do {
            chart = try OrgChartFile.load(path: config.staffFile)
        } catch {
            for diagnostic in error.diagnostics where diagnostic.severity == .error { printError(OfflineOutput.text(of: diagnostic)) }
            throw ExitCode(ExitStatus.usage)
        }
        guard chart.units[under] != nil else {
            printError(Message.errorCommand("start", Message.startUnknownUnit(under, OfflineOutput.shortPath(config.staffFile))))
            throw ExitCode(ExitStatus.usage)
        }
        return chart.unitOrder.filter { chart.units[$0]?.kind.rawValue == kind && chart.isUnit($0, within: under) }
    }

    /// One start per unit; every refusal is reported and the others still start.
    private func runBulk(under: String, kind: String) throws {
        let units = try units(under: under, kind: kind)
        guard !units.isEmpty else {
            printError(Message.errorCommand("start", Message.startBulkNoUnits(under, kind)))
            throw ExitCode(ExitStatus.usage)
        }
        let params = try params()
        if dryRun {
            for unit in units { try dryRun(param + ["unit=\(unit)"]) }
            return
        }
        var started: [BulkStartResult.Started] = []
        var refused: [BulkStartResult.Refused] = []
        for unit in units {
            var unitParams = params
            unitParams["unit"] = unit
            switch try requestDaemon("start", arguments: arguments(unitParams), globals: globals) {
            case let .success(value):
                let result = try EngineOutput.decode(value, as: StartResult.self, command: "start")
                started.append(.init(unit: unit, id: result.id, pastDueSteps: result.pastDueSteps))
                if !json { print(Message.startBulkStarted(unit, result.id)) }
            case let .failure(error):
                refused.append(.init(unit: unit, code: error.code, message: error.message))
                if !json { print(Message.startBulkRefused(unit, refusalReason(error))) }
            }
        }
        if json {
            try printJSON(BulkStartResult(started: started, refused: refused))
        } else {
            print(Message.startBulkSummary(units.count, started.count, refused.count))
            let pastDue = started.map(\.pastDueSteps).reduce(0, +)
            if pastDue > 0, let first = started.first(where: { $0.pastDueSteps > 0 }) { print(Message.startPastDue(pastDue, first.id)) }
        }
        if !refused.isEmpty { throw ExitCode(ExitStatus.refused) }
    }
}

/// The `--json` of a bulk start.
struct BulkStartResult: Encodable {
    struct Started: Encodable {
        var unit: String
        var id: Int
        var pastDueSteps: Int

        enum CodingKeys: String, CodingKey {
            case unit, id
            case pastDueSteps = "past_due_steps"
        }
    }

    struct Refused: Encodable {
        var unit: String
        var code: String
        var message: String
    }

    var started: [Started]
    var refused: [Refused]
}

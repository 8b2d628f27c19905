import ArgumentParser
import ControlProtocol
import Foundation

/// `huaying instances [--workflow W] [--state S] [--unit U | --under U] [--limit N]`: the
/// instances the caller may see, newest first.
struct Instances: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Message.abstractInstances(),
        discussion: "Columns: id, workflow, version (first 12 characters of its hash), state, unit, when it started, when its next step or reminder falls due, and how many reminders are open."
    )

    static let states = InstanceStatus.allCases.map(\.rawValue)
    /// The daemon's page size (`EngineCommandHandlers.instancesPageLimit`).
    static let pageSize = 1000

    @OptionGroup var globals: GlobalOptions
    @OptionGroup var table: TableOptions

    @Flag(name: .long, help: "Print a JSON array for scripts.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Only instances of this workflow id.", valueName: "workflow"))
    var workflow: String?

    @Option(name: .long, help: ArgumentHelp("Only instances in this state: running, completed or cancelled.", valueName: "state"))
    var state: String?

    @Option(name: .long, help: ArgumentHelp("Only instances of this unit (an org-chart unit id).", valueName: "unit"))
    var unit: String?

    @Option(name: .long, help: ArgumentHelp("Only instances of this unit and the units below it.", valueName: "unit"))
    var under: String?

    @Option(name: .long, help: ArgumentHelp("At most this many, newest first (default: all).", valueName: "n"))
    var limit: Int?

    @Option(name: .long, help: ArgumentHelp("Only instances with an id below this one (the next page after --limit).", valueName: "id"))
    var before: Int?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let state, !Self.states.contains(state) {
            throw ValidationError("--state '\(state)' is not a state; expected one of: \(Self.states.joined(separator: ", "))")
        }
    }

    func run() throws {
        var arguments: [String: JSONValue] = [:]
        if let workflow { arguments["workflow"] = .string(workflow) }
        if let state { arguments["state"] = .string(state) }
        if let unit { arguments["unit"] = .string(unit) }
        if let under { arguments["under"] = .string(under) }
        if let limit { arguments["limit"] = .number(Double(limit)) }
        if let before { arguments["before"] = .number(Double(before)) }
        // The daemon answers a page at a time (newest first); fetch pages until --limit or the end.
        var instances: [InstanceSummary] = []
        var before = self.before
        repeat {
            var page = arguments
            if let before { page["before"] = .number(Double(before)) }
            if let limit { page["limit"] = .number(Double(min(Self.pageSize, limit - instances.count))) }
            let answer = try EngineOutput.call("instances", arguments: page, globals: globals, as: [InstanceSummary].self)
            instances += answer
            guard answer.count >= Self.pageSize, let last = answer.last, limit.map({ instances.count < $0 }) ?? true else { break }
            before = last.id
        } while true
        if json {
            try printJSON(instances)
            return
        }
        if instances.isEmpty {
            print(Message.noInstances())
            return
        }
        Self.layout(instances).print(wide: table.wide)
    }

    static func render(_ instances: [InstanceSummary]) -> String {
        layout(instances).render(wide: true, width: nil, colour: false)
    }

    /// Narrow: without the version and the start time (`--wide` shows them).
    static func layout(_ instances: [InstanceSummary]) -> TableLayout {
        var table = TableLayout([
            .init(header: Message.headerID()), .init(header: Message.headerWorkflow()),
            .init(header: Message.headerVersion(), wideOnly: true), .init(header: Message.headerState()),
            .init(header: Message.headerUnit()), .init(header: Message.headerStarted(), wideOnly: true),
            .init(header: Message.headerNextDue()), .init(header: Message.headerOpen()),
        ])
        for instance in instances {
            table.append([
                String(instance.id), instance.workflow, EngineOutput.shortVersion(instance.version), Catalogue.instanceState(instance.state),
                instance.unit ?? "-", EngineOutput.time(instance.startedAt), EngineOutput.time(instance.nextDue),
                String(instance.openReminders),
            ])
        }
        return table
    }
}

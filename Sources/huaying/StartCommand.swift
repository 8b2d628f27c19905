import ArgumentParser
import ControlProtocol
import Foundation

/// `huaying start WORKFLOW --param k=v…`: starts an instance and prints its id.
struct Start: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start an instance of a workflow and print its id.",
        discussion: """
            WORKFLOW is the id of a workflow the daemon has loaded. The instance is pinned to \
            the workflow's current version; its due times are derived from the params now. \
            Check the dates first with `huaying plan WORKFLOW --param …`.
            """
    )

    @OptionGroup var globals: GlobalOptions

    @Flag(name: .long, help: "Print {\"id\": N, \"past_due_steps\": N} for scripts.")
    var json = false

    @Argument(help: ArgumentHelp("The workflow id.", valueName: "workflow"))
    var workflow: String

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp("A parameter value (repeatable), e.g. --param election_day=2026-12-20.", valueName: "name=value"))
    var param: [String] = []

    @Flag(name: .long, help: "Start nothing: print the dated plan the instance would follow, as `huaying plan` does, from the configured workflows folder.")
    var dryRun = false

    func validate() throws {
        guard !workflow.isEmpty else { throw ValidationError("the workflow id is empty") }
        _ = try params()
    }

    func params() throws -> [String: String] {
        try KeyValueOption.parse(param, option: "--param", example: "election_day=2026-12-20")
    }

    func run() throws {
        if dryRun {
            var plan = try Plan.parse([workflow] + param.flatMap { ["--param", $0] } + (json ? ["--json"] : []))
            plan.globals = globals
            try plan.run()
            return
        }
        let result = try EngineOutput.call(
            "start", arguments: ["workflow": .string(workflow), "params": EngineOutput.object(params())],
            globals: globals, as: StartResult.self)
        if json {
            try printJSON(result)
        } else {
            print("started instance \(result.id) of \(workflow)")
            if let note = ProvisionalMark.note(result.provisionalYears) { print(note) }
            if result.pastDueSteps > 0 {
                print("\(result.pastDueSteps) step\(result.pastDueSteps == 1 ? " was" : "s were") already past due and ran at once (marked as started after its due time); see `huaying show \(result.id)`")
            }
        }
    }
}

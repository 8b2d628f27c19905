import ArgumentParser
import ControlProtocol
import Foundation

/// `huaying retry INSTANCE STEP`: an admin runs a failed step again.
struct Retry: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Message.abstractRetry(),
        discussion: """
            The step goes back to pending, due now, and runs as a new effect: an external \
            plugin gets a new idempotency key. An instance that had completed because of the \
            failure is reopened. Recorded in the ledger (step.retried) with who asked.
            """
    )

    @OptionGroup var globals: GlobalOptions

    @Flag(name: .long, help: "Print the instance as JSON for scripts.")
    var json = false

    @Argument(help: ArgumentHelp("The instance id.", valueName: "instance"))
    var id: Int

    @Argument(help: ArgumentHelp("The id of the failed step.", valueName: "step"))
    var step: String

    func run() throws {
        let detail = try EngineOutput.call("retry", arguments: ["id": .number(Double(id)), "step": .string(step)],
                                           globals: globals, as: InstanceDetail.self)
        if json {
            try printJSON(detail)
        } else {
            print("step \(step) of instance \(detail.id) runs again")
            print(Show.render(detail))
        }
    }
}

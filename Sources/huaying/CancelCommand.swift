import ArgumentParser
import ControlProtocol
import Foundation

/// `huaying cancel ID --reason TEXT`: stops an instance and its open reminders.
struct Cancel: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Message.abstractCancel(),
        discussion: "The reason is required; it is recorded in the ledger and shown by `huaying show`."
    )

    @OptionGroup var globals: GlobalOptions

    @Flag(name: .long, help: "Print the result as JSON for scripts.")
    var json = false

    @Argument(help: ArgumentHelp("The instance id.", valueName: "id"))
    var id: Int

    @Option(name: .long, help: ArgumentHelp("Why the instance is cancelled (recorded in the ledger).", valueName: "text"))
    var reason: String

    func validate() throws {
        guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ValidationError("--reason is empty; say why the instance is cancelled, e.g. --reason \"election postponed\"")
        }
    }

    func run() throws {
        let result = try EngineOutput.call(
            "cancel", arguments: ["id": .number(Double(id)), "reason": .string(reason)],
            globals: globals, as: CancelResult.self)
        if json {
            try printJSON(result)
        } else {
            print(Message.cancelLine(result.id, result.cancelledSteps, result.cancelledReminders))
        }
    }
}

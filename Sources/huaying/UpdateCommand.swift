import ArgumentParser
import ControlProtocol
import Foundation

/// `huaying update ID --param k=v…`: changes params of a running instance.
struct Update: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Message.abstractUpdate(),
        discussion: """
            Steps already done keep their times. The change and every re-derived due time are \
            recorded in the ledger. Prints what changed.
            """
    )

    @OptionGroup var globals: GlobalOptions

    @Flag(name: .long, help: "Print the result as JSON for scripts.")
    var json = false

    @Argument(help: ArgumentHelp("The instance id.", valueName: "id"))
    var id: Int

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp("A new parameter value (repeatable), e.g. --param election_day=2026-12-27.", valueName: "name=value"))
    var param: [String] = []

    func validate() throws {
        guard !param.isEmpty else { throw ValidationError("nothing to update; give at least one --param name=value") }
        _ = try params()
    }

    func params() throws -> [String: String] {
        try KeyValueOption.parse(param, option: "--param", example: "election_day=2026-12-27")
    }

    func run() throws {
        let result = try EngineOutput.call(
            "update", arguments: ["id": .number(Double(id)), "params": EngineOutput.object(params())],
            globals: globals, as: UpdateResult.self)
        if json {
            try printJSON(result)
        } else {
            print(Self.render(result))
        }
    }

    static func render(_ result: UpdateResult) -> String {
        var lines: [String] = []
        if result.changed.isEmpty {
            lines.append(Message.updateNoChange(result.id))
        } else {
            lines.append(Message.updateUpdated(result.id))
            for change in result.changed {
                lines.append("  \(change.param): \(change.old ?? Message.updateUnset()) → \(change.new)")
            }
        }
        if !result.rederived.isEmpty {
            lines.append(Message.updateRederived())
            var rows: [[String]] = []
            for item in result.rederived {
                rows.append(["  " + item.step, EngineOutput.time(item.oldDue), "→", EngineOutput.time(item.newDue)])
            }
            lines.append(TextFormatting.table(rows))
        }
        if !result.reminders.isEmpty {
            lines.append(Message.updateReminders())
            for item in result.reminders {
                lines.append(Message.updateReminderLine(item.reminder, item.step, EngineOutput.time(item.oldAckBy), EngineOutput.time(item.newAckBy)))
                if item.oldMessage != item.newMessage { lines.append("    \(item.newMessage)") }
            }
        }
        return lines.joined(separator: "\n")
    }
}

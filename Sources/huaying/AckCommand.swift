import ArgumentParser
import ControlProtocol
import Foundation

/// `huaying ack REMINDER_ID [--note TEXT] [--set key=value…]`: acknowledges a reminder.
struct Ack: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Message.abstractAck(),
        discussion: """
            The note and the --set values are recorded with the acknowledgement in the ledger; \
            later steps of the workflow can use the values. An admin acknowledges for another \
            user with --as USER.
            """
    )

    @OptionGroup var globals: GlobalOptions

    @Flag(name: .long, help: "Print the reminder after the acknowledgement as JSON.")
    var json = false

    @Argument(help: ArgumentHelp("The reminder id (from `huaying inbox`).", valueName: "reminder-id"))
    var id: Int

    @Option(name: .long, help: ArgumentHelp("A note recorded with the acknowledgement.", valueName: "text"))
    var note: String?

    @Option(name: .customLong("set"), parsing: .singleValue, help: ArgumentHelp("A value recorded with the acknowledgement (repeatable), e.g. --set turnout=87%.", valueName: "name=value"))
    var fields: [String] = []

    func validate() throws { _ = try values() }

    func values() throws -> [String: String] {
        try KeyValueOption.parse(fields, option: "--set", example: "turnout=87%")
    }

    func run() throws {
        var arguments: [String: JSONValue] = ["id": .number(Double(id))]
        if let note { arguments["note"] = .string(note) }
        let values = try values()
        if !values.isEmpty { arguments["fields"] = EngineOutput.object(values) }
        let reminder = try EngineOutput.call("ack", arguments: arguments, globals: globals, as: ReminderInfo.self)
        if json {
            try printJSON(reminder)
            return
        }
        var line = Message.ackLine(reminder.id, reminder.instance, reminder.step)
        if let by = reminder.ackedBy { line += Message.ackAs(by) }
        if let at = reminder.ackedAt { line += Message.ackAt(EngineOutput.time(at)) }
        print(line)
        if let note = reminder.note, !note.isEmpty { print(Message.ackNote(note)) }
        if !reminder.fields.isEmpty { print(Message.ackValues(EngineOutput.pairs(reminder.fields))) }
    }
}

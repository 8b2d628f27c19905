import ArgumentParser
import ControlProtocol
import Foundation

/// `huaying inbox [--all]`: the caller's reminders.
struct Inbox: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List your open reminders (with --all, acknowledged and cancelled ones too).",
        discussion: """
            Reminders addressed to you, including those escalated to you. LEVEL is 0 for the \
            first recipients, 1 after the first escalation, and so on. A deadline that has \
            passed is marked "(overdue)". Acknowledge one with `huaying ack ID`. An admin \
            sees another user's inbox with `--as USER`.
            """
    )

    @OptionGroup var globals: GlobalOptions

    @Flag(name: .long, help: "Print a JSON array for scripts.")
    var json = false

    @Flag(name: .long, help: "Include acknowledged and cancelled reminders.")
    var all = false

    func run() throws {
        let reminders = try EngineOutput.call("inbox", arguments: ["all": .bool(all)], globals: globals, as: [ReminderInfo].self)
        if json {
            try printJSON(reminders)
            return
        }
        if reminders.isEmpty {
            print(all ? "no reminders" : "no open reminders")
            return
        }
        print(Self.render(reminders))
    }

    static func render(_ reminders: [ReminderInfo]) -> String {
        var rows = [["ID", "DUE", "DEADLINE", "INSTANCE", "STEP", "LEVEL", "MESSAGE", "ACKED"]]
        for reminder in reminders {
            rows.append([
                String(reminder.id), EngineOutput.time(reminder.due), deadline(reminder), String(reminder.instance),
                reminder.step, String(reminder.level), TextFormatting.truncate(marks(reminder) + reminder.message, toWidth: 40),
                acked(reminder),
            ])
        }
        return TextFormatting.table(rows)
    }

    /// Before the message: on whose behalf the reader sees it (`huaying away`) and the latest 催办.
    static func marks(_ reminder: ReminderInfo) -> String {
        var marks = ""
        if !reminder.onBehalfOf.isEmpty { marks += "[代\(reminder.onBehalfOf.joined(separator: "、"))] " }
        if let by = reminder.nudgedBy { marks += "[催办 \(by) \(EngineOutput.time(reminder.nudgedAt))] " }
        return marks
    }

    /// The deadline cell, marked when the reminder is overdue.
    static func deadline(_ reminder: ReminderInfo) -> String {
        let text = EngineOutput.time(reminder.deadline)
        return reminder.overdue ? text + " (overdue)" : text
    }

    /// The acknowledgement cell: who and when, `cancelled`, or empty while open.
    static func acked(_ reminder: ReminderInfo) -> String {
        if let by = reminder.ackedBy {
            return reminder.ackedAt.map { "\(by) \(EngineOutput.time($0))" } ?? by
        }
        return reminder.state == ReminderState.open.rawValue ? "" : reminder.state
    }
}

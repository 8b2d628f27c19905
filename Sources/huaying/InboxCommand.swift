import ArgumentParser
import ControlProtocol
import Foundation

/// `huaying inbox [--all]`: the caller's reminders.
struct Inbox: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Message.abstractInbox(),
        discussion: """
            Reminders addressed to you, including those escalated to you. LEVEL is 0 for the \
            first recipients, 1 after the first escalation, and so on. A deadline that has \
            passed is marked "(overdue)". Acknowledge one with `huaying ack ID`. An admin \
            sees another user's inbox with `--as USER`.
            """
    )

    @OptionGroup var globals: GlobalOptions
    @OptionGroup var table: TableOptions

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
            print(all ? Message.noReminders() : Message.noOpenReminders())
            return
        }
        Self.layout(reminders).print(wide: table.wide)
    }

    static func render(_ reminders: [ReminderInfo]) -> String {
        layout(reminders).render(wide: true, width: nil, colour: false)
    }

    /// Narrow: without the instance and the level (`--wide` shows them); the message is cut to fit.
    static func layout(_ reminders: [ReminderInfo]) -> TableLayout {
        var table = TableLayout([
            .init(header: Message.headerID()), .init(header: Message.headerDue()), .init(header: Message.headerAckBy()),
            .init(header: Message.headerInstance(), wideOnly: true), .init(header: Message.headerStep()),
            .init(header: Message.headerLevel(), wideOnly: true), .init(header: Message.headerMessage(), flexible: true),
            .init(header: Message.headerAcked()),
        ])
        for reminder in reminders {
            let open = reminder.state == ReminderState.open.rawValue
            table.append([
                String(reminder.id), EngineOutput.time(reminder.due), deadline(reminder), String(reminder.instance),
                reminder.step, String(reminder.level), TextFormatting.truncate(marks(reminder) + reminder.message, toWidth: 40),
                acked(reminder),
            ], mark: open && reminder.overdue ? .overdue : open && reminder.level > 0 ? .escalated : nil)
        }
        return table
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
        return reminder.overdue ? text + Message.showOverdueMark() : text
    }

    /// The acknowledgement cell: who and when, `cancelled`, or empty while open.
    static func acked(_ reminder: ReminderInfo) -> String {
        if let by = reminder.ackedBy {
            return reminder.ackedAt.map { "\(by) \(EngineOutput.time($0))" } ?? by
        }
        return reminder.state == ReminderState.open.rawValue ? "" : Catalogue.reminderState(reminder.state)
    }
}

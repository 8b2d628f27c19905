import ArgumentParser
import ControlProtocol
import Foundation

/// `huaying away --from D --until D --substitute USER`: someone is away and another person
/// stands in (请假/代理); `--list` shows the windows that have not ended.
struct Away: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Message.abstractAway(),
        discussion: """
            From --from to --until (both days included) the substitute also sees your open \
            reminders, including escalations and those sent before the leave began, and may \
            acknowledge them on your behalf; the ledger records "由 SUBSTITUTE 代 YOU 确认". The \
            window ends by itself. Without --substitute, your windows on those days end early. \
            A substitute who is away hands on to their own substitute (up to 3 hops); people \
            cannot stand in for each other (refused with substitute_cycle). Staff record their \
            own leave; an admin records anyone's with --as USER.
            """
    )

    @OptionGroup var globals: GlobalOptions

    @Flag(name: .long, help: "Print JSON for scripts.")
    var json = false

    @Flag(name: .long, help: "List the windows that have not ended (yours and those you stand in for; an admin sees all).")
    var list = false

    @Option(name: .long, help: ArgumentHelp("The first day away.", valueName: "YYYY-MM-DD"))
    var from: String?

    @Option(name: .long, help: ArgumentHelp("The last day away (included).", valueName: "YYYY-MM-DD"))
    var until: String?

    @Option(name: .long, help: ArgumentHelp("Who stands in (a Unix user name from the org chart).", valueName: "user"))
    var substitute: String?

    func validate() throws {
        if list {
            guard from == nil, until == nil, substitute == nil else {
                throw ValidationError("--list takes no --from, --until or --substitute")
            }
            return
        }
        guard from != nil, until != nil else { throw ValidationError("give --from and --until (YYYY-MM-DD), or --list") }
    }

    func run() throws {
        if list {
            let windows = try EngineOutput.call("absences", globals: globals, as: [AbsenceInfo].self)
            if json {
                try printJSON(windows)
                return
            }
            if windows.isEmpty {
                print(Message.awayNone())
                return
            }
            var rows = [[Message.headerID(), Message.headerUser(), Message.headerFrom(), Message.headerUntil(), Message.headerSubstitute(),
                         Message.headerRecordedBy()]]
            for window in windows {
                rows.append([String(window.id), window.user, window.from, window.until, window.substitute ?? Message.awayEnded(), window.recordedBy])
            }
            print(TextFormatting.table(rows))
            return
        }
        var arguments: [String: JSONValue] = ["from": .string(from ?? ""), "until": .string(until ?? "")]
        if let substitute { arguments["substitute"] = .string(substitute) }
        let window = try EngineOutput.call("away", arguments: arguments, globals: globals, as: AbsenceInfo.self)
        if json {
            try printJSON(window)
            return
        }
        if let substitute = window.substitute {
            print(Message.awayRecorded(window.user, window.from, window.until, substitute, window.id))
        } else {
            print(Message.awayEndedEarly(window.user, window.from, window.until, window.id))
        }
    }
}

/// `huaying nudge REMINDER_ID [--note TEXT]`: sends an open reminder again now (催办).
struct Nudge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Message.abstractNudge(),
        discussion: """
            Anyone who can see the reminder's instance may nudge it: an admin, a supervisor of \
            its unit, a recipient. Its inbox line shows the latest nudge; its repeats and \
            escalations keep their times.
            """
    )

    @OptionGroup var globals: GlobalOptions

    @Flag(name: .long, help: "Print the reminder as JSON.")
    var json = false

    @Argument(help: ArgumentHelp("The reminder id (from `huaying inbox` or `huaying show`).", valueName: "reminder-id"))
    var id: Int

    @Option(name: .long, help: ArgumentHelp("Why, recorded with the nudge.", valueName: "text"))
    var note: String?

    func run() throws {
        var arguments: [String: JSONValue] = ["id": .number(Double(id))]
        if let note { arguments["note"] = .string(note) }
        let reminder = try EngineOutput.call("nudge", arguments: arguments, globals: globals, as: ReminderInfo.self)
        if json {
            try printJSON(reminder)
            return
        }
        print(Message.nudgeLine(reminder.id, reminder.instance, reminder.step, reminder.assignees.joined(separator: ", ")))
    }
}

import ArgumentParser
import ControlProtocol
import Foundation

/// `huaying show ID`: one instance, its timeline and its open reminders.
struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Message.abstractShow(),
        discussion: Message.discussionShow()
    )

    @OptionGroup var globals: GlobalOptions

    @Flag(name: .long, help: "Print the instance as JSON for scripts.")
    var json = false

    @Argument(help: ArgumentHelp("The instance id.", valueName: "id"))
    var id: Int

    func run() throws {
        let detail = try EngineOutput.call("show", arguments: ["id": .number(Double(id))], globals: globals, as: InstanceDetail.self)
        if json {
            try printJSON(detail)
        } else {
            print(Self.render(detail))
        }
    }

    static func render(_ detail: InstanceDetail) -> String {
        var lines: [String] = []
        lines.append(Message.showInstanceLine(detail.id, detail.workflow, detail.title))
        var header: [[String]] = [
            [Message.showVersion(), EngineOutput.shortVersion(detail.version)],
            [Message.showState(), Catalogue.instanceState(detail.state)],
            [Message.showUnit(), detail.unit ?? "-"],
        ]
        for name in detail.params.keys.sorted() {
            header.append([Message.showParam(), "\(name) = \(detail.params[name]!)"])
        }
        header.append([Message.showStarted(), Message.showStartedBy(EngineOutput.time(detail.startedAt), detail.startedBy)])
        if let endedAt = detail.endedAt { header.append([Message.showEnded(), EngineOutput.time(endedAt)]) }
        if let reason = detail.cancelReason { header.append([Message.showCancelled(), reason]) }
        lines.append(TextFormatting.table(header.map { ["  " + $0[0], $0[1]] }))
        lines.append("")

        var rows: [TimelineRow] = [.cells([Message.headerStep(), Message.headerState(), Message.headerDue(), Message.headerDeadline(),
                                           Message.headerDoneAt(), Message.headerLate(), Message.headerAckedBy()])]
        for step in detail.steps {
            let late = step.lateBySeconds > 0 ? Message.showLate(TextFormatting.duration(seconds: step.lateBySeconds)) : ""
            let acked = step.ackedBy.map { by in step.ackedAt.map { "\(by) \(EngineOutput.time($0))" } ?? by } ?? ""
            rows.append(.cells([step.id, Catalogue.stepState(step.state), EngineOutput.time(step.due),
                                step.deadline.map(EngineOutput.time) ?? "", step.doneAt.map(EngineOutput.time) ?? "", late, acked]))
            let formula = step.dueFormula.map { Message.showDueFormula($0) } ?? ""
            rows.append(.line("  \(TextFormatting.truncate(step.title, toWidth: 40))  (\(step.uses)\(formula))"))
            if let note = step.note, !note.isEmpty {
                rows.append(.line("  " + Message.showNote(TextFormatting.truncate(note, toWidth: 60))))
            }
        }
        lines.append(Self.timeline(rows))

        let open = detail.reminders.filter { $0.state == ReminderState.open.rawValue }
        lines.append("")
        if open.isEmpty {
            lines.append(Message.showNoOpenReminders())
        } else {
            lines.append(Message.showOpenReminders())
            var reminders = [[Message.headerID(), Message.headerStep(), Message.headerLevel(), Message.headerAssignees(),
                              Message.headerDue(), Message.headerAckBy(), Message.headerMessage()]]
            for reminder in open {
                reminders.append([
                    String(reminder.id), reminder.step, String(reminder.level), reminder.assignees.joined(separator: ", "),
                    EngineOutput.time(reminder.due), Inbox.deadline(reminder),
                    TextFormatting.truncate(reminder.message, toWidth: 40),
                ])
            }
            lines.append(TextFormatting.table(reminders))
        }
        return lines.joined(separator: "\n")
    }

    enum TimelineRow {
        /// A row of the table.
        case cells([String])
        /// A line under a row (a step's title, its note) that does not widen the columns.
        case line(String)
    }

    /// The rows laid out as a table, with the free lines kept in place between them.
    static func timeline(_ rows: [TimelineRow]) -> String {
        let cells = rows.compactMap { row -> [String]? in
            if case let .cells(cells) = row { return cells }
            return nil
        }
        var tableLines = TextFormatting.table(cells).split(separator: "\n", omittingEmptySubsequences: false)[...]
        var result: [String] = []
        for row in rows {
            switch row {
            case .cells: result.append(String(tableLines.removeFirst()))
            case let .line(text): result.append(text)
            }
        }
        return result.joined(separator: "\n")
    }
}

import ArgumentParser
import ControlProtocol
import Foundation
import WorkflowModel

/// `huaying board --under UNIT --workflow W --html FILE`: a progress board, units × steps.
struct Board: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Message.abstractBoard(),
        discussion: """
            One row per unit below UNIT with an instance of the workflow (its newest), one \
            column per step; each cell is coloured by state — done, waiting (reminded), \
            escalated, overdue, not yet due, cancelled — with its date (done, else the \
            acknowledgement deadline, else due). Self-contained HTML with an inline SVG; prints \
            on A4 landscape.
            """)

    @OptionGroup var globals: GlobalOptions

    @Option(name: .long, help: ArgumentHelp("The units at and below this one.", valueName: "unit"))
    var under: String

    @Option(name: .long, help: ArgumentHelp("The workflow id.", valueName: "workflow"))
    var workflow: String

    @Option(name: .long, help: ArgumentHelp("Write the page to this file.", valueName: "file"))
    var html: String

    /// How a cell looks.
    enum CellState: String, CaseIterable {
        case done, waiting, escalated, overdue, notYetDue = "not-yet-due", cancelled

        var fill: String {
            switch self {
            case .done: "#2e7d32"
            case .waiting: "#1565c0"
            case .escalated: "#ef6c00"
            case .overdue: "#c62828"
            case .notYetDue: "#bdbdbd"
            case .cancelled: "#757575"
            }
        }

        var label: String {
            switch self {
            case .done: Message.boardDone()
            case .waiting: Message.stepWaiting()
            case .escalated: Message.escalated()
            case .overdue: Message.overdue()
            case .notYetDue: Message.boardNotYetDue()
            case .cancelled: Message.stepCancelled()
            }
        }
    }

    struct Cell {
        var state: CellState
        var date: String
        /// The date lies in a year the daemon's calendar lacks.
        var provisional = false
    }

    func run() throws {
        var instances: [InstanceSummary] = []
        var before: Int?
        repeat {
            var arguments: [String: JSONValue] = ["workflow": .string(workflow), "under": .string(under)]
            if let before { arguments["before"] = .number(Double(before)) }
            let page = try EngineOutput.call("instances", arguments: arguments, globals: globals, as: [InstanceSummary].self)
            instances += page
            guard page.count >= Instances.pageSize, let last = page.last else { break }
            before = last.id
        } while true
        // The newest instance of each unit (the list is newest first).
        var seen: Set<String> = []
        var details: [InstanceDetail] = []
        for instance in instances where !seen.contains(instance.unit ?? "") {
            seen.insert(instance.unit ?? "")
            details.append(try EngineOutput.call("show", arguments: ["id": .number(Double(instance.id))], globals: globals, as: InstanceDetail.self))
        }
        let names = unitNames()
        details.sort { (names.order[$0.unit ?? ""] ?? Int.max, $0.unit ?? "") < (names.order[$1.unit ?? ""] ?? Int.max, $1.unit ?? "") }
        try HTMLPage.write(Self.page(workflow: workflow, under: names.names[under] ?? under, details: details, names: names.names,
                                     printedAt: Date()), to: html, command: "board")
        print(Message.pageWritten(html))
    }

    /// Unit names and the org chart's order, when the chart can be read (else ids).
    private func unitNames() -> (names: [String: String], order: [String: Int]) {
        guard let config = try? HuayingConfig.load(path: globals.configPath), let chart = try? OrgChartFile.load(path: config.staffFile) else {
            return ([:], [:])
        }
        return (chart.units.mapValues(\.name), Dictionary(uniqueKeysWithValues: chart.unitOrder.enumerated().map { ($1, $0) }))
    }

    static func cell(_ step: StepDetail, reminders: [ReminderInfo]) -> Cell {
        let open = reminders.filter { $0.step == step.id && $0.state == ReminderState.open.rawValue }
        // `11-20 09:00`: the year is the board's. A date in a year the calendar lacks is
        // provisional, as `report` and `agenda` mark it (drawn with a dashed outline).
        let cell = { (state: CellState, instant: String?) -> Cell in
            guard let text = instant.map(EngineOutput.time), text.count >= 10 else { return Cell(state: state, date: "") }
            let parts = text.split(separator: " ")
            return Cell(state: state, date: String(parts[0].dropFirst(5)) + (parts.count > 2 ? " " + parts[2] : ""),
                        provisional: isProvisional(instant, years: step.provisionalYears))
        }
        switch StepState(rawValue: step.state) {
        case .done?: return cell(.done, step.doneAt)
        case .cancelled?, .failed?: return cell(.cancelled, step.doneAt ?? step.due)
        default: break
        }
        if let reminder = open.max(by: { $0.level < $1.level }) {
            if reminder.overdue { return cell(.overdue, reminder.deadline ?? reminder.due) }
            if reminder.level > 0 { return cell(.escalated, reminder.deadline ?? reminder.due) }
            return cell(.waiting, reminder.deadline ?? reminder.due)
        }
        return cell(.notYetDue, step.due)
    }

    static func page(workflow: String, under: String, details: [InstanceDetail], names: [String: String], printedAt: Date) -> String {
        let e = HTMLPage.escape
        let steps = details.first?.steps ?? []
        let title = Message.boardTitle(details.first?.title ?? workflow, under)
        let labelWidth = 110.0, cellWidth = 84.0, headerHeight = 120.0, rowHeight = 40.0
        let width = labelWidth + cellWidth * Double(max(steps.count, 1)), height = headerHeight + rowHeight * Double(max(details.count, 1))
        var svg = "<svg class=\"board\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"\(e(title))\" font-size=\"11\">\n"
        for (column, step) in steps.enumerated() {
            // Titles slanted, so many steps fit across the page.
            let x = labelWidth + cellWidth * Double(column) + 10, y = headerHeight - 8
            svg += "<g transform=\"translate(\(x) \(y)) rotate(-35)\"><text font-weight=\"bold\">\(e(TextFormatting.truncate(step.title, toWidth: 18)))</text>"
            svg += "<text y=\"11\" fill=\"#555\" font-size=\"8\">\(e(TextFormatting.truncate(step.id, toWidth: 24)))</text></g>\n"
        }
        for (row, detail) in details.enumerated() {
            let y = headerHeight + rowHeight * Double(row)
            let unit = detail.unit.map { names[$0] ?? $0 } ?? "-"
            svg += "<text x=\"4\" y=\"\(y + 24)\" font-weight=\"bold\">\(e(unit))</text>\n"
            for (column, stepID) in steps.map(\.id).enumerated() {
                let x = labelWidth + cellWidth * Double(column)
                guard let step = detail.steps.first(where: { $0.id == stepID }) else { continue }
                let cell = cell(step, reminders: detail.reminders)
                let mark = cell.provisional ? ProvisionalMark.text : ""
                svg += "<g class=\"cell \(cell.state.rawValue)\(cell.provisional ? " provisional" : "")\"><title>\(e("\(unit) · \(step.title): \(cell.state.label) \(cell.date)\(mark)"))</title>"
                svg += "<rect x=\"\(x + 2)\" y=\"\(y + 2)\" width=\"\(cellWidth - 4)\" height=\"\(rowHeight - 4)\" rx=\"4\" fill=\"\(cell.state.fill)\""
                    + (cell.provisional ? " stroke=\"#111\" stroke-width=\"2\" stroke-dasharray=\"4 3\"/>" : "/>")
                let ink = cell.state == .notYetDue ? "#111" : "#fff"
                svg += "<text x=\"\(x + 8)\" y=\"\(y + 17)\" fill=\"\(ink)\" font-weight=\"bold\">\(e(cell.state.label))</text>"
                svg += "<text x=\"\(x + 8)\" y=\"\(y + 31)\" fill=\"\(ink)\" font-size=\"9\">\(e(cell.date))</text></g>\n"
            }
        }
        svg += "</svg>"
        var legend = "<p class=\"small\">"
        legend += CellState.allCases.map {
            "<svg width=\"12\" height=\"12\"><rect width=\"12\" height=\"12\" fill=\"\($0.fill)\"/></svg> \(e($0.label))"
        }.joined(separator: " &nbsp; ")
        legend += " &nbsp; <svg width=\"12\" height=\"12\"><rect x=\"1\" y=\"1\" width=\"10\" height=\"10\" fill=\"none\" stroke=\"#111\" stroke-dasharray=\"3 2\"/></svg> "
            + e(Message.boardProvisional())
        legend += "</p>"
        let counts = CellState.allCases.map { state in
            (state, details.reduce(0) { total, detail in total + detail.steps.filter { cell($0, reminders: detail.reminders).state == state }.count })
        }
        let summary = "<p>" + e(Message.boardSummary(details.count, steps.count)) + " · "
            + counts.filter { $0.1 > 0 }.map { e("\($0.0.label) \($0.1)") }.joined(separator: " · ") + "</p>"
        let body = "<h1>\(e(title))</h1>\n\(summary)\n\(details.isEmpty ? "<p>\(e(Message.boardEmpty()))</p>" : svg)\n\(legend)\n"
            + "<footer>\(e(Message.boardFooter(ISO8601DateFormatter().string(from: printedAt))))</footer>"
        return HTMLPage.document(title: title, language: .current, landscape: true, body: body)
    }
}

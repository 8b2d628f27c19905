import ControlProtocol
import Foundation
import Testing
@testable import huaying

@Suite struct TableLayoutTests {
    func sample() -> TableLayout {
        var table = TableLayout([.init(header: "ID"), .init(header: "VERSION", wideOnly: true),
                                 .init(header: "MESSAGE", flexible: true), .init(header: "STATE")])
        table.append(["1", "7ad035bc780d", String(repeating: "请确认", count: 20), "open"], mark: .overdue)
        table.append(["2", "7ad035bc780d", "short", "acked"])
        return table
    }

    @Test func narrowLeavesOutWideColumnsAndCutsTheFlexibleOneToTheWidth() {
        let text = sample().render(wide: false, width: 60, colour: false)
        #expect(!text.contains("VERSION"))
        #expect(text.split(separator: "\n").allSatisfy { TextFormatting.displayWidth(String($0)) <= 60 }, "\(text)")
        #expect(text.contains("…") && text.contains("open"))
    }

    @Test func wideShowsEverythingUncut() {
        let text = sample().render(wide: true, width: 60, colour: false)
        #expect(text.contains("VERSION") && text.contains(String(repeating: "请确认", count: 20)))
    }

    @Test func marksAreColouredOnlyWhenAsked() {
        #expect(!sample().render(wide: false, width: nil, colour: false).contains("\u{1B}"))
        let coloured = sample().render(wide: false, width: nil, colour: true).split(separator: "\n")
        #expect(coloured[1].hasPrefix("\u{1B}[31m") && coloured[1].hasSuffix("\u{1B}[0m"))
        #expect(!coloured[0].contains("\u{1B}") && !coloured[2].contains("\u{1B}"))
    }

    @Test func colourNeedsATerminalAndNoNoColor() {
        #expect(Terminal.colours(environment: [:], isTerminal: true))
        #expect(!Terminal.colours(environment: [:], isTerminal: false))
        #expect(!Terminal.colours(environment: ["NO_COLOR": "1"], isTerminal: true))
        #expect(!Terminal.colours(environment: ["TERM": "dumb"], isTerminal: true))
        #expect(Terminal.columns(environment: ["COLUMNS": "72"], isTerminal: false) == 72)
        #expect(Terminal.columns(environment: [:], isTerminal: false) == nil, "a pipe gets whole lines")
    }
}

@Suite struct ICalendarTests {
    func item(step: String = "notify", at: String = "2026-11-07T09:00:00+08:00") -> AgendaItem {
        AgendaItem(at: at, instance: 12, workflow: "check", title: "村务检查", unit: "huangjue", unitName: "黄桷村", step: step,
                   stepTitle: "通知检查, 第一轮; 请准备", state: "waiting", due: at, deadline: nil, ackBy: at, reminder: 3,
                   assignees: ["xiaoming"], level: 0, overdue: false, escalated: false)
    }

    @Test func linesAreFoldedAtSeventyFiveOctetsWithoutSplittingACharacter() {
        let long = "SUMMARY:" + String(repeating: "黄桷村", count: 20)
        let folded = ICalendar.fold(long)
        let lines = folded.components(separatedBy: "\r\n")
        #expect(lines.count > 1 && lines.allSatisfy { $0.utf8.count <= 75 })
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix(" ") })
        #expect(lines.enumerated().map { $0.offset == 0 ? $0.element : String($0.element.dropFirst()) }.joined() == long)
    }

    @Test func textIsEscaped() {
        #expect(ICalendar.escape("a,b;c\\d\ne\u{7}") == "a\\,b\\;c\\\\d\\ne")
    }

    @Test func theUIDDependsOnlyOnTheInstanceAndTheStep() {
        #expect(ICalendar.uid(item()) == "huaying-instance-12-step-notify@huaying")
        #expect(ICalendar.uid(item(at: "2026-12-01T09:00:00+08:00")) == ICalendar.uid(item()))
        #expect(ICalendar.uid(item(step: "report")) != ICalendar.uid(item()))
    }

    @Test func aDeadlineAtMidnightIsAnAllDayEvent() throws {
        let zone = try #require(TimeZone(identifier: "Asia/Shanghai"))
        let text = ICalendar.document([item(at: "2026-11-09T00:00:00+08:00"), item(step: "report")], name: "t", stamp: Date(), zone: zone)
        #expect(text.contains("DTSTART;VALUE=DATE:20261109\r\nDTEND;VALUE=DATE:20261110\r\n"))
        #expect(text.contains("DTSTART:20261107T010000Z\r\nDURATION:PT30M\r\n"))
        #expect(text.contains("X-WR-TIMEZONE:Asia/Shanghai"))
        #expect(text.hasSuffix("END:VCALENDAR\r\n"))
    }
}

@Suite struct PrintedPageTests {
    static let detail = InstanceDetail(
        id: 7, workflow: "check", title: "村务检查", version: "abc", state: "running", unit: "huangjue", params: ["day": "2026-11-09"],
        startedAt: "2026-11-02T08:00:00+08:00", startedBy: "root",
        steps: [StepDetail(id: "notify", title: "通知<检查>", uses: "remind", state: "done", due: "2026-11-06T09:00:00+08:00",
                           deadline: "2026-11-09T18:00:00+08:00", doneAt: "2026-11-08T10:00:00+08:00", ackedBy: "yangfan", note: "a & b")],
        reminders: [ReminderInfo(id: 1, instance: 7, workflow: "check", step: "notify", title: "通知", assignees: ["xiaoming"],
                                 due: "2026-11-06T09:00:00+08:00", message: "请准备。依据：《村民委员会组织法》（2025年修正）。其他", state: "acked")])

    @Test func theLegalBasisIsTheSentenceAReminderCites() {
        #expect(Report.basis(in: "请准备。依据：《村民委员会组织法》（2025年修正）。其他") == "《村民委员会组织法》（2025年修正）")
        #expect(Report.basis(in: "没有依据") == nil)
    }

    @Test func aStaffMembersPageSaysTheChainWasNotChecked() {
        let refused = ControlError(.notVisible, "the whole ledger is for admins")
        let html = Report.page(Self.detail, rows: [], verification: .failure(refused), printedAt: Date(timeIntervalSince1970: 0))
        #expect(html.contains("the whole ledger is for admins [not_visible]"))
        #expect(html.contains("通知&lt;检查&gt;") && html.contains("a &amp; b"), "text is escaped")
        #expect(html.contains("《村民委员会组织法》（2025年修正）"))
        #expect(!html.contains("<script") && html.contains("@page { size: A4;"))
    }

    @Test func boardCellsFollowTheStepAndItsOpenReminder() {
        var step = Self.detail.steps[0]
        #expect(Board.cell(step, reminders: []).state == .done)
        step.state = "waiting"
        let open = ReminderInfo(id: 2, instance: 7, workflow: "check", step: "notify", title: "通知", assignees: [],
                                due: "2026-11-06T09:00:00+08:00", deadline: "2026-11-07T09:00:00+08:00", level: 1, message: "",
                                state: "open")
        #expect(Board.cell(step, reminders: [open]).state == .escalated)
        var overdue = open
        overdue.overdue = true
        #expect(Board.cell(step, reminders: [overdue]) .state == .overdue)
        #expect(Board.cell(step, reminders: [overdue]).date == "11-07 09:00")
        step.state = "pending"
        #expect(Board.cell(step, reminders: []).state == .notYetDue)
    }

    /// A cell's date in a year the calendar lacks carries the provisional mark, as in
    /// `report`, `agenda` and `--ics` (the board had none).
    @Test func aBoardCellsDateInAYearWithoutACalendarIsMarkedProvisional() {
        var step = Self.detail.steps[0]
        step.state = "pending"
        step.due = "2027-02-08T09:00:00+08:00"
        step.provisionalYears = [2027]
        #expect(Board.cell(step, reminders: []).date == "02-08 09:00")
        #expect(Board.cell(step, reminders: []).provisional)
        var detail = Self.detail
        detail.steps = [step]
        detail.reminders = []
        let html = Board.page(workflow: "check", under: "芦溪镇", details: [detail], names: [:], printedAt: Date(timeIntervalSince1970: 0))
        #expect(html.contains("class=\"cell not-yet-due provisional\"") && html.contains("stroke-dasharray=\"4 3\""))
        #expect(html.contains("02-08 09:00" + ProvisionalMark.text), "the cell's tooltip carries the mark")
        step.provisionalYears = []
        #expect(!Board.cell(step, reminders: []).provisional)
    }
}

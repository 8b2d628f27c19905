import ControlProtocol
import Foundation
import Testing

/// Dates in a year the calendar does not cover (2027 here: no State Council notice yet) are
/// marked provisional in every answer a person sees — start, show, inbox, update — and in the
/// ledger; the daemon warns once per such year, and derives the dates again when the calendar
/// file gains the year.
@Suite struct ProvisionalDatesEndToEndTests {
    static let yearTurn = """
        workflow: year-turn
        title: 跨年通知
        params:
          unit: { type: unit, title: 社区 }
          day: { type: date, title: 会议日 }
        steps:
          - id: notify
            title: 发出通知
            at: day - 1 workday
            deadline: day + 3 workdays at 18:00
            uses: remind
            with: { to: secretary@unit, message: 请确认会议通知 }
            ack: { within: 2 workdays }
        """

    /// A test fixture, not the State Council's notice: it only makes 2027-01-04 a day off so
    /// that the re-derived dates differ.
    static let fixture2027 = """
          2027:
            source: test fixture (not a State Council notice)
            holidays:
              - name: 元旦
                off: 2027-01-01..2027-01-04

        """

    @Test func datesInAYearWithoutANoticeAreMarkedEverywhereAndDerivedAgainWhenItArrives() throws {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["year-turn.yaml": Self.yearTurn])
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-12-30T09:00+08:00")
        let cli = EngineCLI(socket: site.socketPath)

        // start: the deadline (day + 3 workdays = 2027-01-07) is provisional.
        let started = try cli.json(StartResult.self, ["start", "year-turn", "--param", "unit=guqiao-shequ", "--param", "day=2027-01-04"])
        #expect(started.provisional && started.provisionalYears == [2027])
        let shown = try cli.show(started.id)
        let notify = try #require(shown.steps.first { $0.id == "notify" })
        #expect(notify.provisional && notify.provisionalYears == [2027])
        #expect(notify.due.map(isoInstant) == shanghaiTime("2026-12-31T09:00"))
        let human = try cli.run(["show", "\(started.id)"])
        #expect(human.stdout.contains("dates in 2027 are provisional:"), "\(human.stdout)")

        // The reminder: acknowledge by 12-31 + 2 workdays = 2027-01-05 (元旦 computed).
        try cli.setClock("2026-12-31T09:00")
        let reminder = try #require(try cli.inbox("zhaomin").first)
        #expect(reminder.deadline.map(isoInstant) == shanghaiTime("2027-01-05T09:00"))
        #expect(reminder.provisional && reminder.provisionalYears == [2027])
        let inbox = try cli.run(["inbox"], as: "zhaomin")
        #expect(inbox.stdout.contains("09:00 (provisional)"), "\(inbox.stdout)")
        // agenda (its table, JSON and iCalendar) and the printed 台账 mark them too.
        let agenda = try cli.json(AgendaResult.self, ["agenda", "--until", "2027-01-31"], as: "zhaomin")
        let item = try #require(agenda.items.first { $0.instance == started.id })
        #expect(item.provisional && item.provisionalYears == [2027])
        #expect(try cli.run(["agenda", "--until", "2027-01-31"], as: "zhaomin").stdout.contains("(provisional)"))
        let ics = site.root.appendingPathComponent("agenda.ics").path
        #expect(try cli.run(["agenda", "--until", "2027-01-31", "--ics", ics], as: "zhaomin").status == 0)
        #expect(try String(contentsOfFile: ics, encoding: .utf8).contains("(provisional)"))
        let page = site.root.appendingPathComponent("report.html").path
        #expect(try cli.run(["report", "\(started.id)", "--html", page]).status == 0)
        #expect(try String(contentsOfFile: page, encoding: .utf8).contains("(provisional)"))
        let sent = try #require(try cli.audit(instance: started.id).first { $0.event == "reminder.sent" })
        #expect(sent.fields["provisional_years"] == "2027")

        // update: still provisional, and said so.
        let updated = try cli.json(UpdateResult.self, ["update", "\(started.id)", "--param", "day=2027-01-05"])
        #expect(updated.provisional && updated.provisionalYears == [2027])
        #expect(daemon.log.components(separatedBy: "calendar lacks a year").count - 1 == 1, "one warning for 2027: \(daemon.log)")

        // The calendar gains 2027 (here a fixture with 01-04 off): reloaded on SIGHUP, the open
        // reminder's acknowledgement deadline is derived again and nothing is provisional.
        let calendar = site.root.appendingPathComponent("etc/calendars/cn-mainland.yaml")
        var text = try String(contentsOf: calendar, encoding: .utf8)
        if !text.hasSuffix("\n") { text += "\n" }
        try (text + Self.fixture2027).write(to: calendar, atomically: true, encoding: .utf8)
        kill(daemon.process.processIdentifier, SIGHUP)
        var after: ReminderInfo?
        try poll(seconds: 10, every: 50_000) {
            after = try cli.inbox("zhaomin").first
            return after?.provisional == false
        }
        #expect(after?.provisional == false && after?.provisionalYears == [])
        #expect(after?.deadline.map(isoInstant) == shanghaiTime("2027-01-06T09:00"), "01-04 is now a day off")
        #expect(try cli.show(started.id).steps.allSatisfy { !$0.provisional })
        #expect(try cli.audit(instance: started.id).contains { $0.event == "reminder.rescheduled" && $0.fields["ack_by"] == "2027-01-06 09:00" })
        #expect(daemon.stop() == 0, "log: \(daemon.log)")
    }
}

import ControlProtocol
import Foundation
import Testing
import WorkflowEngine
import WorkflowModel

/// 请假/代理 and 催办 on the simulated clock: while zhaomin (the community secretary, the
/// reminder's recipient) is away, her substitute sees her open reminders and acknowledges on
/// her behalf; the window ends by itself; cycles are refused; a nudge is recorded.
@Suite struct SubstituteAndNudgeTests {
    private func started() throws -> (EngineHarness, Int64, Int64) {
        let harness = try EngineHarness(workflows: ["notice.yaml": noticeWorkflow])
        let id = try harness.engine.start(workflow: "notice", params: ["unit": "guqiao-shequ", "meeting_day": "2026-11-20"], actor: "admin")
        try harness.advance(to: "2026-11-10T09:00")
        let reminder = try #require(try harness.engine.inbox(user: "zhaomin", all: false).first)
        return (harness, id, reminder.id)
    }

    private func day(_ text: String) -> CivilDate { CivilDate(text)! }

    @Test func theSubstituteSeesAndAcknowledgesOnBehalfOfTheAbsentRecipient() throws {
        let (harness, id, reminder) = try started()
        #expect(try harness.engine.inbox(user: "sunli", all: false).isEmpty, "not hers before the leave")
        #expect(throws: EngineError.self) {
            try harness.engine.acknowledge(reminder: reminder, user: "sunli", actor: "sunli", note: nil, fields: [:])
        }
        // The leave starts today and covers a reminder sent before it began.
        _ = try harness.engine.recordAbsence(user: "zhaomin", substitute: "sunli", from: day("2026-11-10"), until: day("2026-11-12"), actor: "zhaomin")
        let seen = try harness.engine.inbox(user: "sunli", all: false)
        #expect(seen.map(\.id) == [reminder])
        #expect(seen.first?.onBehalfOf == ["zhaomin"])
        #expect(try harness.engine.inbox(user: "zhaomin", all: false).first?.onBehalfOf == [], "her own inbox is unchanged")

        let acked = try harness.engine.acknowledge(reminder: reminder, user: "sunli", actor: "sunli", note: "已发通知", fields: [:])
        #expect(acked.ackedBy == "sunli")
        let row = try #require(try harness.engine.audit(instance: id).last { $0.event == LedgerEvent.reminderAcknowledged.rawValue })
        #expect(row.text == "由 sunli 代 zhaomin 确认：已发通知")
        #expect(row.fields["on_behalf_of"] == "zhaomin")
        #expect(try harness.stepState(id, "notify") == "done")
        let absence = try #require(try harness.engine.audit().last { $0.event == LedgerEvent.absenceRecorded.rawValue })
        #expect(absence.text == "zhaomin 于 2026-11-10 至 2026-11-12 请假，由 sunli 代理")
        #expect(absence.actor == "zhaomin")
    }

    @Test func theWindowEndsByItself() throws {
        let (harness, _, reminder) = try started()
        _ = try harness.engine.recordAbsence(user: "zhaomin", substitute: "sunli", from: day("2026-11-09"), until: day("2026-11-10"), actor: "admin")
        #expect(try harness.engine.inbox(user: "sunli", all: false).map(\.id) == [reminder])
        try harness.advance(to: "2026-11-11T00:00")
        #expect(try harness.engine.inbox(user: "sunli", all: false).isEmpty, "the day after the last day, the reminder is hers alone again")
        #expect(throws: EngineError.self) {
            try harness.engine.acknowledge(reminder: reminder, user: "sunli", actor: "sunli", note: nil, fields: [:])
        }
        #expect(try harness.engine.absences(endingOnOrAfter: day("2026-11-11")).isEmpty)
    }

    @Test func aSubstituteWhoIsAwayHandsOnAndCyclesAreRefused() throws {
        let (harness, _, reminder) = try started()
        _ = try harness.engine.recordAbsence(user: "zhaomin", substitute: "sunli", from: day("2026-11-10"), until: day("2026-11-20"), actor: "admin")
        _ = try harness.engine.recordAbsence(user: "sunli", substitute: "wugang", from: day("2026-11-10"), until: day("2026-11-11"), actor: "admin")
        #expect(try harness.engine.inbox(user: "wugang", all: false).first?.onBehalfOf == ["zhaomin"], "two hops")
        do {
            _ = try harness.engine.recordAbsence(user: "wugang", substitute: "zhaomin", from: day("2026-11-11"), until: day("2026-11-12"), actor: "admin")
            Issue.record("a cycle was accepted")
        } catch {
            #expect(error.code == .substituteCycle, "\(error)")
            #expect(error.message.contains("wugang → zhaomin → sunli → wugang"), "\(error.message)")
        }
        // On a day the chain does not close (11-13: sunli is back), the same pair is fine.
        _ = try harness.engine.recordAbsence(user: "wugang", substitute: "zhaomin", from: day("2026-11-13"), until: day("2026-11-13"), actor: "admin")
        #expect(throws: EngineError.self) {
            try harness.engine.recordAbsence(user: "zhaomin", substitute: "zhaomin", from: day("2026-11-10"), until: day("2026-11-10"), actor: "admin")
        }
        #expect(throws: EngineError.self) {
            try harness.engine.recordAbsence(user: "zhaomin", substitute: "sunli", from: day("2026-11-12"), until: day("2026-11-10"), actor: "admin")
        }
        // Ending the leave early: zhaomin's reminder leaves the substitutes' inboxes.
        _ = try harness.engine.recordAbsence(user: "zhaomin", substitute: nil, from: day("2026-11-10"), until: day("2026-11-20"), actor: "zhaomin")
        #expect(try harness.engine.inbox(user: "sunli", all: false).isEmpty)
        #expect(try harness.engine.inbox(user: "zhaomin", all: false).map(\.id) == [reminder])
    }

    @Test func aNudgeIsRecordedAndShownAndAnAcknowledgedReminderCannotBeNudged() throws {
        let (harness, id, reminder) = try started()
        try harness.advance(to: "2026-11-11T10:00")
        let nudged = try harness.engine.nudge(reminder: reminder, actor: "wanghong", note: "请今天内发出")
        #expect(nudged.nudgedBy == "wanghong")
        #expect(nudged.nudgedAt == local("2026-11-11T10:00"))
        #expect(try harness.engine.inbox(user: "zhaomin", all: false).first?.nudgedBy == "wanghong")
        let row = try #require(try harness.engine.audit(instance: id).last)
        #expect(row.event == LedgerEvent.reminderNudged.rawValue)
        #expect(row.actor == "wanghong")
        #expect(row.fields["note"] == "请今天内发出")
        #expect(row.text.hasPrefix("催办："))
        _ = try harness.engine.acknowledge(reminder: reminder, user: "zhaomin", actor: "zhaomin", note: nil, fields: [:])
        do {
            _ = try harness.engine.nudge(reminder: reminder, actor: "wanghong", note: nil)
            Issue.record("an acknowledged reminder was nudged")
        } catch {
            #expect(error.code == .alreadyAcknowledged)
        }
        do {
            _ = try harness.engine.nudge(reminder: 999, actor: "wanghong", note: nil)
            Issue.record("a missing reminder was nudged")
        } catch {
            #expect(error.code == .unknownReminder)
        }
        #expect(try harness.engine.verifyLedger().ok)
    }
    @Test func leaveWrittenInTheOrgChartWorksLikeARecordedOneAndARecordOverridesIt() throws {
        let (harness, id, reminder) = try started()
        var chart = try #require(harness.support.orgChart)
        let index = try #require(chart.staff.firstIndex { $0.user == "zhaomin" })
        chart.staff[index].away = [.init(from: day("2026-11-09"), until: day("2026-11-11"), substitute: "wugang")]
        let support = EngineSupport(calendars: harness.support.calendars, orgChart: chart, timeZone: harness.support.timeZone)
        harness.engine = try EngineHarness.makeEngine(db: harness.db, clock: harness.clock, support: support)
        for (name, text) in harness.workflows {
            try harness.engine.registerDefinition(path: harness.directory.appendingPathComponent(name).path, text: text)
        }
        #expect(try harness.engine.inbox(user: "wugang", all: false).first?.onBehalfOf == ["zhaomin"])
        // A recorded window for the same days wins over the chart's.
        _ = try harness.engine.recordAbsence(user: "zhaomin", substitute: "sunli", from: day("2026-11-10"), until: day("2026-11-10"), actor: "zhaomin")
        #expect(try harness.engine.inbox(user: "wugang", all: false).isEmpty)
        _ = try harness.engine.acknowledge(reminder: reminder, user: "sunli", actor: "sunli", note: nil, fields: [:])
        #expect(try harness.engine.audit(instance: id).last { $0.event == LedgerEvent.reminderAcknowledged.rawValue }?.fields["on_behalf_of"] == "zhaomin")
    }
}

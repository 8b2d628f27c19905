import Foundation
import Testing
import WorkflowEngine

/// A reminder's life on the simulated clock: sent when due, repeated, escalated level by
/// level, and stopped for good by an acknowledgement.
@Suite struct ReminderLifecycleTests {
    private func started() throws -> (EngineHarness, Int64) {
        let harness = try EngineHarness(workflows: ["notice.yaml": noticeWorkflow])
        let id = try harness.engine.start(workflow: "notice", params: ["unit": "guqiao-shequ", "meeting_day": "2026-11-20"], actor: "admin")
        return (harness, id)
    }

    @Test func nothingRunsBeforeTheStepFallsDue() throws {
        let (harness, id) = try started()
        #expect(try harness.engine.inbox(user: "zhaomin", all: true).isEmpty)
        #expect(try harness.stepState(id, "notify") == "pending")
        #expect(try harness.engine.instance(id).steps.first?.due == local("2026-11-10T09:00"))
        try harness.advance(to: "2026-11-10T08:59")
        #expect(try harness.engine.inbox(user: "zhaomin", all: true).isEmpty)
        #expect(try harness.events(id) == ["instance.started -"])
    }

    @Test func theReminderReachesTheRoleHolderWithItsRenderedMessageAndDeadline() throws {
        let (harness, id) = try started()
        try harness.advance(to: "2026-11-10T09:00")
        let inbox = try harness.engine.inbox(user: "zhaomin", all: false)
        #expect(inbox.count == 1)
        let reminder = try #require(inbox.first)
        #expect(reminder.instance == id)
        #expect(reminder.level == 0)
        #expect(reminder.assignees == ["zhaomin"])
        #expect(reminder.message == "古桥社区：请在2026-11-10前发出会议通知（会议日2026-11-20）。")
        #expect(reminder.due == local("2026-11-10T09:00"))
        #expect(reminder.deadline == local("2026-11-12T09:00"))
        #expect(!reminder.overdue)
        #expect(try harness.stepState(id, "notify") == "waiting")
        #expect(try harness.engine.inbox(user: "wanghong", all: false).isEmpty, "not escalated yet")
    }

    @Test func repeatsThenEscalatesToTownshipThenCountyThenStaysOpenAndOverdue() throws {
        let (harness, id) = try started()
        try harness.advance(to: "2026-11-11T09:00")
        #expect(try harness.events(id) == ["instance.started -", "reminder.sent notify", "reminder.repeated notify"])

        try harness.advance(to: "2026-11-12T09:00")
        let afterFirst = try #require(try harness.engine.inbox(user: "wanghong", all: false).first)
        #expect(afterFirst.level == 1)
        #expect(afterFirst.assignees == ["zhaomin", "wanghong"])
        #expect(try harness.engine.inbox(user: "lijianguo", all: false).isEmpty)

        try harness.advance(to: "2026-11-13T09:00")
        let afterSecond = try #require(try harness.engine.inbox(user: "lijianguo", all: false).first)
        #expect(afterSecond.level == 2)
        #expect(Set(afterSecond.assignees) == ["zhaomin", "wanghong", "lijianguo", "zhouyan"])
        #expect(afterSecond.overdue)

        try harness.advance(to: "2026-11-20T09:00")
        let escalations = try harness.engine.audit(instance: id).filter { $0.event == "reminder.escalated" }
        #expect(escalations.count == 2, "the chain has two levels; nothing after it is exhausted")
        #expect(escalations.last?.fields["chain"] == "exhausted")
        #expect(try harness.engine.inbox(user: "zhaomin", all: false).first?.state == "open")
        #expect(try harness.stepState(id, "notify") == "waiting")
    }

    @Test func acknowledgingStopsRepeatsAndEscalationsAndRunsTheNextStep() throws {
        let (harness, id) = try started()
        try harness.advance(to: "2026-11-12T10:00")  // escalated once
        let reminder = try #require(try harness.engine.inbox(user: "wanghong", all: false).first)
        let acked = try harness.engine.acknowledge(reminder: reminder.id, user: "wanghong", actor: "wanghong", note: "已张贴", fields: [:])
        #expect(acked.state == "acked")
        #expect(acked.ackedBy == "wanghong")
        #expect(acked.ackedAt == local("2026-11-12T10:00"))
        #expect(try harness.stepState(id, "notify") == "done")
        #expect(try harness.stepState(id, "notified") == "done")
        let recorded = try #require(try harness.engine.audit(instance: id).first { $0.event == "step.recorded" })
        #expect(recorded.text == "通知已发出，确认人wanghong")
        #expect(recorded.fields["note"] == "已张贴")
        #expect(try harness.engine.instance(id).summary.state == "completed")

        let rowsBefore = try harness.engine.audit(instance: id).count
        try harness.advance(to: "2026-12-31T09:00")
        #expect(try harness.engine.audit(instance: id).count == rowsBefore, "no repeat or escalation after the ack")
        #expect(try harness.engine.inbox(user: "lijianguo", all: true).isEmpty, "the county was never reached")
        #expect(harness.engine.nextWakeUp == nil)
    }

    @Test func aSecondAcknowledgementIsRefusedNamingWhoAndWhen() throws {
        let (harness, _) = try started()
        try harness.advance(to: "2026-11-10T09:30")
        let reminder = try #require(try harness.engine.inbox(user: "zhaomin", all: false).first)
        _ = try harness.engine.acknowledge(reminder: reminder.id, user: "zhaomin", actor: "zhaomin", note: nil, fields: [:])
        #expect(throws: EngineError(.alreadyAcknowledged, "reminder \(reminder.id) was already acknowledged by zhaomin at 2026-11-10 09:30")) {
            _ = try harness.engine.acknowledge(reminder: reminder.id, user: "zhaomin", actor: "zhaomin", note: nil, fields: [:])
        }
    }

    @Test func someoneElseCannotAcknowledge() throws {
        let (harness, id) = try started()
        try harness.advance(to: "2026-11-10T09:30")
        let reminder = try #require(try harness.engine.inbox(user: "zhaomin", all: false).first)
        #expect(throws: EngineError(.notRecipient, "reminder \(reminder.id) is addressed to zhaomin, not to wanghong")) {
            _ = try harness.engine.acknowledge(reminder: reminder.id, user: "wanghong", actor: "wanghong", note: nil, fields: [:])
        }
        #expect(try harness.stepState(id, "notify") == "waiting")
    }

    @Test func anAcknowledgedReminderCannotBeReopenedEvenByHand() throws {
        let (harness, _) = try started()
        try harness.advance(to: "2026-11-10T09:30")
        let reminder = try #require(try harness.engine.inbox(user: "zhaomin", all: false).first)
        _ = try harness.engine.acknowledge(reminder: reminder.id, user: "zhaomin", actor: "zhaomin", note: nil, fields: [:])
        #expect(throws: (any Error).self) {
            try harness.db.execute("UPDATE reminder SET state = 'open' WHERE id = ?", [.integer(reminder.id)])
        }
    }

    @Test func cancellingAnInstanceCancelsItsOpenReminders() throws {
        let (harness, id) = try started()
        try harness.advance(to: "2026-11-10T09:30")
        let counts = try harness.engine.cancel(instance: id, reason: "会议取消", actor: "admin")
        #expect(counts.reminders == 1)
        #expect(counts.steps == 2)
        #expect(try harness.engine.inbox(user: "zhaomin", all: false).isEmpty)
        #expect(try harness.engine.instance(id).summary.state == "cancelled")
        #expect(try harness.engine.instance(id).cancelReason == "会议取消")
        let rows = try harness.engine.audit(instance: id).count
        try harness.advance(to: "2026-11-30T09:00")
        #expect(try harness.engine.audit(instance: id).count == rows)
        #expect(throws: EngineError.self) {
            _ = try harness.engine.cancel(instance: id, reason: "again", actor: "admin")
        }
    }

    static let electionDay = """
        workflow: results
        title: 公布结果
        params:
          unit: { type: unit, title: 社区 }
          day: { type: date, title: 选举日 }
        steps:
          - id: announce
            title: 公布选举结果
            at: day at 07:30
            deadline: day at 23:59
            uses: remind
            with: { to: secretary@unit, message: 请公布结果 }
            ack:
              escalate:
                uses: escalate
                with: { chain: [civil-affairs@township, civil-affairs@county], every: 1 workday }
        """

    /// A deadline at 23:59 of a Sunday escalates at 09:00 on Monday (and the next level a
    /// workday later), not at midnight on the day off; the deadline shown stays 23:59.
    @Test func anEscalationAtTheEndOfADayOffWaitsForNineOnTheNextWorkday() throws {
        let harness = try EngineHarness(workflows: ["results.yaml": Self.electionDay])
        let id = try harness.engine.start(workflow: "results", params: ["unit": "guqiao-shequ", "day": "2026-12-20"], actor: "admin")
        try harness.advance(to: "2026-12-21T08:59")
        #expect(try harness.engine.audit(instance: id).filter { $0.event == "reminder.escalated" }.isEmpty)
        let reminder = try #require(try harness.engine.inbox(user: "zhaomin", all: false).first)
        #expect(reminder.deadline == local("2026-12-20T23:59"))
        try harness.advance(to: "2026-12-22T09:00")
        let escalated = try harness.engine.audit(instance: id).filter { $0.event == "reminder.escalated" }
        #expect(escalated.map(\.at) == [local("2026-12-21T09:00"), local("2026-12-22T09:00")])

        // On a workday the escalation stays at the deadline.
        let thursday = try harness.engine.start(workflow: "results", params: ["unit": "guqiao-shequ", "day": "2026-12-24"], actor: "admin")
        try harness.advance(to: "2026-12-24T23:59")
        #expect(try harness.engine.audit(instance: thursday).filter { $0.event == "reminder.escalated" }.map(\.at) == [local("2026-12-24T23:59")])
    }

    static let posting = """
        workflow: posting
        title: 公布选民名单
        params:
          unit: { type: unit, title: 社区 }
        steps:
          - id: publish
            title: 公布
            uses: remind
            with: { to: secretary@unit, message: 请公布 }
            ack: { fields: [posted_on] }
          - id: window-ends
            title: 异议期届满
            at: steps.publish.fields.posted_on + 5 days civil-deadline
            uses: record
            with: { text: "异议期届满：{{steps.publish.fields.posted_on + 5 days civil-deadline}}" }
        """

    static let objection = """
        workflow: objection
        title: 异议
        params:
          unit: { type: unit, title: 社区 }
          election: { type: instance, title: 选举, workflows: [posting] }
        steps:
          - id: received
            title: 收到
            uses: record
            with: { text: "异议（#{{election}}）" }
        """

    /// The window counts from the day the list was posted, given with the acknowledgement;
    /// a value that is not a date, or lies in the future, is refused with bad_field.
    @Test func aDateGivenWithTheAcknowledgementAnchorsTheFormulasThatReadIt() throws {
        let harness = try EngineHarness(workflows: ["posting.yaml": Self.posting, "objection.yaml": Self.objection])
        try harness.advance(to: "2026-11-30T09:00")
        let id = try harness.engine.start(workflow: "posting", params: ["unit": "guqiao-shequ"], actor: "admin")
        try harness.advance(to: "2026-12-02T10:00")
        let reminder = try #require(try harness.engine.inbox(user: "zhaomin", all: false).first)
        #expect(throws: EngineError(.badField, "'posted_on' is a date YYYY-MM-DD (such as 2026-12-02); not '11月30日'")) {
            _ = try harness.engine.acknowledge(reminder: reminder.id, user: "zhaomin", actor: "zhaomin", note: nil, fields: ["posted_on": "11月30日"])
        }
        #expect(throws: EngineError(.badField, "'posted_on' is 2026-12-03, after today (2026-12-02); expected the day it happened")) {
            _ = try harness.engine.acknowledge(reminder: reminder.id, user: "zhaomin", actor: "zhaomin", note: nil, fields: ["posted_on": "2026-12-03"])
        }
        _ = try harness.engine.acknowledge(reminder: reminder.id, user: "zhaomin", actor: "zhaomin", note: nil, fields: ["posted_on": "2026-11-30"])
        // Posted 11-30 (acknowledged 12-02): the window ends 12-05, a Saturday → 12-07 23:59.
        #expect(try harness.engine.instance(id).steps.first { $0.id == "window-ends" }?.due == local("2026-12-07T23:59"))

        // An objection names its election; a wrong id or another workflow's instance is refused.
        #expect(throws: EngineError.self) {
            _ = try harness.engine.start(workflow: "objection", params: ["unit": "guqiao-shequ", "election": "999"], actor: "admin")
        }
        let objection = try harness.engine.start(workflow: "objection", params: ["unit": "guqiao-shequ", "election": "\(id)"], actor: "admin")
        #expect(throws: EngineError.self) {
            _ = try harness.engine.start(workflow: "objection", params: ["unit": "guqiao-shequ", "election": "\(objection)"], actor: "admin")
        }
        let linked = try harness.engine.audit(instance: id).filter { $0.event == "instance.linked" }
        #expect(linked.map { $0.fields["instance"] } == ["\(objection)"])
        #expect(try harness.engine.verifyLedger().ok)
    }

    static let audit = """
        workflow: audit
        title: 离任审计
        params:
          unit: { type: unit, title: 社区 }
        steps:
          - id: publish-results
            title: 公布审计结果
            uses: remind
            with: { to: director@unit, message: 请公布审计结果 }
        """

    static let gated = """
        workflow: gated
        title: 选举
        params:
          unit: { type: unit, title: 社区 }
        steps:
          - id: publish-audit
            title: 确认审计结果已公布
            uses: remind
            with: { to: secretary@unit, message: 请确认 }
            ack:
              fields: [audit]
              requires:
                audit: { workflow: audit, step: publish-results }
        """

    /// The election's publish-audit cannot be acknowledged before the audit's result is
    /// published for the same unit; then the acknowledgement names that audit instance and the
    /// audit's ledger lists the election.
    @Test func anAcknowledgementThatRequiresAnotherInstancesResultWaitsForIt() throws {
        let harness = try EngineHarness(workflows: ["audit.yaml": Self.audit, "gated.yaml": Self.gated])
        let election = try harness.engine.start(workflow: "gated", params: ["unit": "guqiao-shequ"], actor: "admin")
        let gate = try #require(try harness.engine.inbox(user: "zhaomin", all: false).first { $0.instance == election })
        #expect(throws: EngineError.self) {
            _ = try harness.engine.acknowledge(reminder: gate.id, user: "zhaomin", actor: "zhaomin", note: nil, fields: [:])
        }
        // An audit of another unit does not count; nor does one not yet published.
        let elsewhere = try harness.engine.start(workflow: "audit", params: ["unit": "xijie"], actor: "admin")
        let audit = try harness.engine.start(workflow: "audit", params: ["unit": "guqiao-shequ"], actor: "admin")
        do {
            _ = try harness.engine.acknowledge(reminder: gate.id, user: "zhaomin", actor: "zhaomin", note: nil, fields: [:])
            Issue.record("acknowledged before the audit result")
        } catch {
            #expect(error.code == .prerequisiteMissing)
        }
        for id in [elsewhere, audit] {
            let reminder = try #require(try harness.engine.instance(id).reminders.first)
            let user = try #require(reminder.assignees.first)
            _ = try harness.engine.acknowledge(reminder: reminder.id, user: user, actor: user, note: "已在公开栏公布", fields: [:])
        }
        #expect(throws: EngineError.self) {
            _ = try harness.engine.acknowledge(reminder: gate.id, user: "zhaomin", actor: "zhaomin", note: nil, fields: ["audit": "\(elsewhere)"])
        }
        let acked = try harness.engine.acknowledge(reminder: gate.id, user: "zhaomin", actor: "zhaomin", note: nil, fields: [:])
        #expect(acked.fields == ["audit": "\(audit)"])
        #expect(try harness.engine.audit(instance: audit).filter { $0.event == "instance.linked" }.map { $0.fields["instance"] } == ["\(election)"])
        #expect(try harness.engine.verifyLedger().ok)
    }
}

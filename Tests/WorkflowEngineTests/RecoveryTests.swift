import Foundation
import Testing
@testable import WorkflowEngine

/// Downtime, restarts and parameter changes.
@Suite struct RecoveryTests {
    @Test func afterDowntimeOverdueItemsRunOnceMarkedLateAndMissedRepeatsCoalesce() throws {
        let harness = try EngineHarness(workflows: ["notice.yaml": noticeWorkflow])
        let id = try harness.engine.start(workflow: "notice", params: ["unit": "guqiao-shequ", "meeting_day": "2026-11-20"], actor: "admin")
        try harness.advance(to: "2026-11-10T09:00")
        // The daemon is down from here until 11-16 12:00; then one wake-up catches up.
        try harness.restart()
        harness.clock.set(local("2026-11-16T12:00"))
        let report = try harness.engine.runDue()
        #expect(report.lateItems >= 3)
        #expect(report.longestLateSeconds == Int64(local("2026-11-16T12:00").timeIntervalSince(local("2026-11-11T09:00"))))
        let audit = try harness.engine.audit(instance: id)
        let repeats = audit.filter { $0.event == "reminder.repeated" }
        #expect(repeats.count == 1, "six missed daily repeats coalesce into one")
        #expect(repeats.first?.fields["coalesced"] == "6")
        let escalations = audit.filter { $0.event == "reminder.escalated" }
        #expect(escalations.map { $0.fields["level"] } == ["1", "2"], "each level runs once")
        #expect(escalations.allSatisfy { $0.fields["late_by_seconds"] != nil })
        #expect(harness.engine.statistics.caughtUp == report.lateItems)

        // A second wake-up at the same instant runs nothing again.
        #expect(try harness.engine.runDue().itemsRun == 0)
        #expect(try harness.engine.audit(instance: id).count == audit.count)
    }

    @Test func aRestartedEngineContinuesWhereTheStoreLeftOff() throws {
        let harness = try EngineHarness(workflows: ["notice.yaml": noticeWorkflow])
        let id = try harness.engine.start(workflow: "notice", params: ["unit": "guqiao-shequ", "meeting_day": "2026-11-20"], actor: "admin")
        try harness.advance(to: "2026-11-10T09:00")
        try harness.restart()
        #expect(harness.engine.nextWakeUp == local("2026-11-11T09:00"), "the next repeat is scheduled again from the store")
        try harness.advance(to: "2026-11-12T09:00")
        #expect(try harness.engine.inbox(user: "wanghong", all: false).count == 1)
        #expect(try harness.events(id).filter { $0 == "reminder.sent notify" }.count == 1)
    }

    @Test func updatingAParamRederivesPendingDueTimesAndRecordsTheChange() throws {
        let harness = try EngineHarness(workflows: ["notice.yaml": noticeWorkflow])
        let id = try harness.engine.start(workflow: "notice", params: ["unit": "guqiao-shequ", "meeting_day": "2026-11-20"], actor: "admin")
        #expect(harness.engine.nextWakeUp == local("2026-11-10T09:00"))
        let report = try harness.engine.update(instance: id, params: ["meeting_day": "2026-11-27"], actor: "admin")
        #expect(report.changed == [.init(param: "meeting_day", old: "2026-11-20", new: "2026-11-27")])
        #expect(report.rederived == [.init(step: "notify", oldDue: local("2026-11-10T09:00"), newDue: local("2026-11-17T09:00"))])
        #expect(harness.engine.nextWakeUp == local("2026-11-17T09:00"))
        let updated = try #require(try harness.engine.audit(instance: id).last)
        #expect(updated.event == "instance.updated")
        #expect(updated.fields["param.meeting_day"] == "2026-11-20 → 2026-11-27")
        try harness.advance(to: "2026-11-16T09:00")
        #expect(try harness.engine.inbox(user: "zhaomin", all: true).isEmpty, "the old date no longer fires")
        try harness.advance(to: "2026-11-17T09:00")
        #expect(try harness.engine.inbox(user: "zhaomin", all: false).first?.message.contains("2026-11-27") == true)
    }

    @Test func badParamsAtStartAreRefusedNamingThemAndNothingIsStored() throws {
        let harness = try EngineHarness(workflows: ["notice.yaml": noticeWorkflow])
        #expect(throws: EngineError.self) {
            _ = try harness.engine.start(workflow: "notice", params: ["unit": "nowhere", "meeting_day": "soon"], actor: "admin")
        }
        do {
            _ = try harness.engine.start(workflow: "notice", params: ["unit": "nowhere"], actor: "admin")
        } catch {
            #expect(error.code == .badParams)
            #expect(error.message.contains("unknown unit 'nowhere'"))
            #expect(error.message.contains("missing parameter 'meeting_day'"))
        }
        do {
            _ = try harness.engine.start(workflow: "nope", params: [:], actor: "admin")
        } catch {
            #expect(error.message == "unknown workflow 'nope'; known workflows: notice")
        }
        #expect(try harness.engine.instances().isEmpty)
        #expect(try harness.engine.audit().isEmpty)
    }
}

/// A batch the database refuses is rolled back whole and retried later, with backoff.
@Suite struct FailedBatchTests {
    @Test func aRefusedBatchLosesNothingAndRunsOnceTheDatabaseAcceptsWritesAgain() throws {
        let harness = try EngineHarness(workflows: ["notice.yaml": noticeWorkflow])
        let id = try harness.engine.start(workflow: "notice", params: ["unit": "guqiao-shequ", "meeting_day": "2026-11-20"], actor: "admin")
        let rowsBefore = try harness.engine.audit().count
        // The disk "fills": every write fails.
        try harness.db.execute("PRAGMA query_only = ON")
        harness.clock.set(local("2026-11-10T09:00"))
        #expect(harness.engine.runDueLogged() == nil)
        #expect(harness.engine.statistics.failedBatches == 1)
        #expect(harness.engine.statistics.lastError?.contains("SQLite error 8") == true, "\(harness.engine.statistics.lastError ?? "")")
        #expect(harness.engine.retryDelayMilliseconds == 1000)
        #expect(harness.engine.runDueLogged() == nil)
        #expect(harness.engine.retryDelayMilliseconds == 2000, "the retry waits longer each time")
        #expect(harness.engine.nextWakeUp == local("2026-11-10T09:00"), "the item is still due")

        try harness.db.execute("PRAGMA query_only = OFF")
        #expect(try #require(harness.engine.runDueLogged()).itemsRun == 1)
        #expect(harness.engine.retryDelayMilliseconds == 0)
        #expect(try harness.engine.inbox(user: "zhaomin", all: false).count == 1)
        #expect(try harness.events(id).filter { $0 == "reminder.sent notify" }.count == 1)
        #expect(try harness.engine.audit().count == rowsBefore + 1)
        #expect(try harness.engine.verifyLedger().ok)
    }
}

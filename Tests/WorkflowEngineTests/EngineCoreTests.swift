import ControlProtocol
import Escalate
import EventLoop
import Foundation
import Record
import Remind
import SQLiteStore
import Testing
@testable import WorkflowEngine

/// The second cut of the engine core: units of work, slices, group commit, visible failures,
/// repeats that end, and updates that carry into open reminders.
@Suite struct EngineCoreTests {
    private func start(_ harness: EngineHarness, meeting: String = "2026-11-20") throws -> Int64 {
        try harness.engine.start(workflow: "notice", params: ["unit": "guqiao-shequ", "meeting_day": meeting], actor: "admin")
    }

    @Test func aRolledBackBatchLeavesMemoryEqualToTheDatabase() throws {
        let harness = try EngineHarness(workflows: ["notice.yaml": noticeWorkflow])
        let ids = try (0..<5).map { _ in try start(harness) }
        let before = try harness.engine.consistencySnapshot()
        try harness.db.execute("CREATE TRIGGER forced_failure BEFORE INSERT ON ledger BEGIN SELECT RAISE(ABORT, 'forced failure'); END;")
        #expect(throws: EngineError.self) { try harness.advance(to: "2026-11-12T09:00") }
        let memory = try harness.engine.consistencySnapshot()
        let stored = try harness.engine.storedSnapshot()
        #expect(memory.schedule == stored.schedule)
        #expect(memory.head == stored.head)
        #expect(memory.nextIDs == stored.nextIDs)
        #expect(memory.counts == stored.counts)
        #expect(memory.head == before.head)
        #expect(harness.engine.statistics.failedBatches == 1)

        // Once writes work again, everything runs, once.
        try harness.db.execute("DROP TRIGGER forced_failure")
        try harness.advance(to: "2026-11-12T09:00")
        for id in ids {
            #expect(try harness.events(id).filter { $0 == "reminder.sent notify" }.count == 1)
        }
        #expect(try harness.engine.verifyLedger().ok)
        let after = try harness.engine.consistencySnapshot(), afterStored = try harness.engine.storedSnapshot()
        #expect(after.schedule == afterStored.schedule && after.counts == afterStored.counts && after.head == afterStored.head)
    }

    @Test func parametersThatNoLongerBindFailTheStepsVisiblyInsteadOfBlockingEveryBatch() throws {
        let harness = try EngineHarness(workflows: ["notice.yaml": noticeWorkflow])
        let broken = try start(harness)
        let healthy = try start(harness)
        // A stored row that lost a parameter (as after a hand edit or an old bug).
        try harness.db.execute("UPDATE instance SET params = '{\"unit\":\"guqiao-shequ\"}' WHERE id = ?", [.integer(broken)])
        try harness.restart()
        try harness.advance(to: "2026-11-10T09:00")
        let view = try harness.engine.instance(broken)
        let notify = try #require(view.steps.first { $0.id == "notify" })
        #expect(notify.state == StepState.failed.rawValue)
        #expect(notify.failure?.contains("meeting_day") == true, "\(notify.failure ?? "nil")")
        #expect(try harness.events(broken).contains("step.failed notify"))
        #expect(try harness.events(healthy).contains("reminder.sent notify"), "the other instance is not held up")
    }

    @Test func repeatsEndOnceTheChainIsExhaustedAndTheDeadlineHasPassed() throws {
        let harness = try EngineHarness(workflows: ["notice.yaml": noticeWorkflow])
        let id = try start(harness)
        try harness.advance(to: "2027-03-01T09:00")
        let repeats = try harness.events(id).filter { $0 == "reminder.repeated notify" }
        // Due 11-10, ack by 11-12, levels on 11-12 and 11-13: repeats on 11-11 and 11-12 only.
        #expect(repeats.count == 2)
        let reminder = try #require(try harness.engine.inbox(user: "zhaomin", all: false).first)
        #expect(reminder.overdue, "the reminder stays open and overdue")
        #expect(harness.engine.nextWakeUp == nil)
    }

    @Test func maxRepeatsAndRepeatUntilBoundRepeats() throws {
        let limited = noticeWorkflow.replacingOccurrences(of: "      repeat: 1 day\n", with: "      repeat: 1 day\n      max_repeats: 1\n")
        let harness = try EngineHarness(workflows: ["notice.yaml": limited])
        let id = try start(harness)
        try harness.advance(to: "2026-12-31T09:00")
        #expect(try harness.events(id).filter { $0 == "reminder.repeated notify" }.count == 1)
    }

    @Test func updatingADateCarriesIntoTheOpenReminder() throws {
        let harness = try EngineHarness(workflows: ["notice.yaml": noticeWorkflow])
        let id = try start(harness)
        try harness.advance(to: "2026-11-10T10:00")
        let sent = try #require(try harness.engine.inbox(user: "zhaomin", all: false).first)
        #expect(sent.message.contains("2026-11-10"))
        #expect(sent.deadline == local("2026-11-12T09:00"))
        let report = try harness.engine.update(instance: id, params: ["meeting_day": "2026-11-27"], actor: "admin")
        #expect(report.reminders.map(\.reminder) == [sent.id])
        #expect(report.reminders.first?.newAckBy == local("2026-11-19T09:00"))
        let moved = try #require(try harness.engine.inbox(user: "zhaomin", all: false).first)
        #expect(moved.message.contains("2026-11-17") && moved.message.contains("2026-11-27"), "\(moved.message)")
        #expect(moved.deadline == local("2026-11-19T09:00"))
        #expect(try harness.events(id).contains("reminder.rescheduled notify"))
        // The old escalation date no longer fires.
        try harness.advance(to: "2026-11-13T09:00")
        #expect(try harness.engine.inbox(user: "wanghong", all: true).isEmpty)
        try harness.advance(to: "2026-11-19T09:00")
        #expect(try harness.engine.inbox(user: "wanghong", all: false).count == 1)
    }

    @Test func queuedStartsCommitTogetherAndAreAnsweredAfterTheCommit() throws {
        let harness = try EngineHarness(workflows: ["notice.yaml": noticeWorkflow])
        var commits = 0
        harness.engine.onCommit = { _ in commits += 1 }
        var answers: [Result<StartReport, EngineError>] = []
        for meeting in ["2026-11-20", "2026-11-21", "not-a-date", "2026-11-22"] {
            harness.engine.enqueueStart(workflow: "notice", params: ["unit": "guqiao-shequ", "meeting_day": meeting], actor: "admin") {
                answers.append($0)
            }
        }
        #expect(answers.isEmpty, "nothing is answered before the commit")
        harness.engine.flushPendingStarts()
        #expect(commits == 1)
        #expect(answers.count == 4)
        #expect(answers.compactMap { try? $0.get().id } == [1, 2, 3])
        if case let .failure(error) = answers[2] { #expect(error.code == .badParams) } else { Issue.record("a bad date was accepted") }
        #expect(try harness.engine.instances().count == 3)
    }

    @Test func aStartAfterTheDueTimeSaysSoAndCountsThePastDueSteps() throws {
        let harness = try EngineHarness(start: "2026-11-15T09:00", workflows: ["notice.yaml": noticeWorkflow])
        var answer: StartReport?
        harness.engine.enqueueStart(workflow: "notice", params: ["unit": "guqiao-shequ", "meeting_day": "2026-11-20"], actor: "admin") {
            answer = try? $0.get()
        }
        harness.engine.flushPendingStarts()
        let report = try #require(answer)
        #expect(report.pastDueSteps >= 1)
        let sent = try #require(try harness.engine.audit(instance: report.id).first { $0.event == LedgerEvent.reminderSent.rawValue })
        #expect(sent.text.contains("流程启动晚于应办时间"))
        #expect(sent.fields["late_because"] == "started_after_due")
        #expect(!sent.text.contains("停机"))
    }

    @Test func aLargeSimulatedJumpNeedsConfirmation() throws {
        let harness = try EngineHarness(workflows: ["notice.yaml": noticeWorkflow])
        #expect(throws: EngineError.self) { _ = try harness.engine.advanceSimulatedClock(to: local("2126-11-04T09:00")) }
        #expect(harness.clock.now == local("2026-11-02T09:00"))
        _ = try harness.engine.advanceSimulatedClock(to: local("2028-11-04T09:00"), confirmed: true)
        #expect(harness.clock.now == local("2028-11-04T09:00"))
    }

    /// The loop is served between slices of a long advance: a timer armed before the advance
    /// fires while it is still going.
    @Test func aSlicedAdvanceLetsTheLoopRunBetweenSlices() throws {
        let harness = try EngineHarness(workflows: ["notice.yaml": noticeWorkflow])
        let ids = try (0..<60).map { _ in try start(harness) }
        harness.engine.sliceBudget = .init(maxItems: 10, maxMilliseconds: 1000)
        let loop = try EventLoop()
        try harness.engine.attach(to: loop)
        var log: [String] = []
        var ran: Int?
        try harness.engine.advanceSimulatedClock(to: local("2026-11-11T09:00")) { result in
            ran = try? result.get()
            log.append("done")
            loop.stop()
        }
        let timer = try TimerHandle(loop: loop)
        try timer.start(after: 0) { log.append("timer") }
        loop.run()
        #expect(ran == 120)
        #expect(log == ["timer", "done"])
        for id in ids { #expect(try harness.events(id).filter { $0 == "reminder.repeated notify" }.count == 1) }
        harness.engine.detach()
        timer.close()
        try loop.close()
    }

    /// Issue 9 item 14: an advance that fails part-way stops at the last committed instant,
    /// says where, and counts the failure; what ran before stays committed.
    @Test func anAdvanceThatFailsPartWaySaysWhereTheClockStopped() throws {
        let harness = try EngineHarness(workflows: ["notice.yaml": noticeWorkflow])
        let log = LogCapture()
        harness.engine = try WorkflowEngine(db: harness.db, clock: harness.clock, support: harness.support,
                                            plugins: [RecordPlugin(), RemindPlugin(), EscalatePlugin()], logger: log.logger)
        try harness.engine.registerDefinition(path: harness.directory.appendingPathComponent("notice.yaml").path, text: noticeWorkflow)
        let id = try start(harness)
        harness.engine.sliceBudget = .init(maxItems: 1, maxMilliseconds: 1000)
        let failFrom = Int64(local("2026-11-11T00:00").timeIntervalSince1970 * 1000)
        try harness.db.execute("CREATE TRIGGER disk_full BEFORE INSERT ON ledger WHEN NEW.at >= \(failFrom) BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;")
        do {
            _ = try harness.engine.advanceSimulatedClock(to: local("2026-11-13T09:00"))
            Issue.record("the advance did not fail")
        } catch {
            #expect(error.code == .storeError)
            #expect(error.message.contains("the clock stopped at 2026-11-10 09:00"), "\(error.message)")
            #expect(error.message.contains("disk is full"), "the SQLite error is named: \(error.message)")
        }
        #expect(harness.clock.now == local("2026-11-10T09:00"), "the clock is where the last committed slice left it")
        #expect(harness.engine.statistics.failedBatches == 1)
        // The log names the SQLite error itself, not only the refusal code.
        let stopped = log.records.filter { $0.message == "clock advance stopped: a batch rolled back" }
        #expect(stopped.count == 1 && stopped.first?.level == .error, "\(log.records.map(\.message))")
        #expect(stopped.first?.metadata["error"]?.contains("SQLite error") == true, "\(stopped.first?.metadata ?? [:])")
        #expect(stopped.first?.metadata["error"]?.contains("database or disk is full") == true, "\(stopped.first?.metadata ?? [:])")
        #expect(stopped.first?.metadata["clock"] == "2026-11-10 09:00", "\(stopped.first?.metadata ?? [:])")
        #expect(try harness.events(id).contains("reminder.sent notify"), "what ran before the failure stays committed")
        try harness.db.execute("DROP TRIGGER disk_full")
        _ = try harness.engine.advanceSimulatedClock(to: local("2026-11-13T09:00"))
        #expect(try harness.events(id).filter { $0 == "reminder.repeated notify" }.count == 2)
    }

    @Test func theTransitionTablesInTheDocsMatchTheCode() throws {
        let docs = try String(contentsOfFile: Checkout.root.appendingPathComponent("docs/engine.md").path, encoding: .utf8)
        #expect(docs.contains(EngineStateTables.markdown), "docs/engine.md must contain:\n\(EngineStateTables.markdown)")
    }
}

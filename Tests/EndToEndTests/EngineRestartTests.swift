import ControlProtocol
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A clean restart (SIGTERM) keeps acknowledgements and the pending schedule; a restart after
/// downtime runs what was missed once, late, with missed repeats coalesced.
@Suite struct EngineRestartTests {
    @Test func aRestartKeepsAcknowledgementsAndThePendingSchedule() throws {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["drill.yaml": drillWorkflow])
        defer { site.remove() }
        var daemon = try simulatedDaemon(site, at: "2026-11-01T09:00+08:00")
        let cli = EngineCLI(socket: site.socketPath)
        // open 11-04 08:15; notify 11-05 10:30 (ack within 12 h, repeat 3 h); check 11-07 14:00
        // (ack within 1 day, repeat 4 h, escalates to the street); close 11-10 16:45.
        let id = try cli.start("drill", ["unit": "guqiao-shequ", "day": "2026-11-10"])

        try cli.setClock("2026-11-05T11:00")
        let notify = try #require(try cli.inbox("zhaomin").first)
        #expect(notify.step == "notify" && notify.due == "2026-11-05T10:30:00+08:00")
        let acked = try cli.ack(notify.id, as: "zhaomin", note: "已通知")
        #expect(acked.ackedAt == "2026-11-05T11:00:00+08:00")

        #expect(daemon.stop() == 0, "log: \(daemon.log)")
        daemon = try simulatedDaemon(site, at: "2026-11-05T11:00+08:00")
        #expect(!daemon.log.contains("did not stop cleanly"))
        let kept = try #require(try cli.inbox("zhaomin", all: true).first { $0.id == notify.id })
        #expect(kept.state == "acked" && kept.ackedBy == "zhaomin" && kept.ackedAt == acked.ackedAt && kept.note == "已通知")
        var detail = try cli.show(id)
        let steps = Dictionary(uniqueKeysWithValues: detail.steps.map { ($0.id, $0) })
        #expect(steps["notify"]?.state == "done" && steps["notified"]?.state == "done")
        #expect(steps["check"]?.state == "pending" && steps["check"]?.due == "2026-11-07T14:00:00+08:00")
        #expect(steps["close"]?.state == "pending" && steps["close"]?.due == "2026-11-10T16:45:00+08:00")
        #expect(try cli.inbox("zhaomin").isEmpty)

        // The schedule survived: the next reminder comes once, on time; the acknowledged one
        // never again.
        try cli.setClock("2026-11-07T15:00")
        let open = try cli.inbox("zhaomin")
        #expect(open.map(\.step) == ["check"])
        #expect(open.first?.due == "2026-11-07T14:00:00+08:00")
        let check = try #require(open.first)

        // Restart while the reminder waits: its next repeat (18:00) is kept.
        #expect(daemon.stop() == 0, "log: \(daemon.log)")
        daemon = try simulatedDaemon(site, at: "2026-11-07T15:00+08:00")
        try cli.setClock("2026-11-07T19:00")
        var rows = try cli.audit(instance: id)
        #expect(rows.filter { $0.event == "reminder.repeated" && $0.step == "check" }.map(\.at) == ["2026-11-07T18:00:00+08:00"])

        // Downtime: the daemon comes back 20 hours later. The missed repeats (22:00, 02:00,
        // 06:00, 10:00, 14:00) coalesce into one, and the escalation due at 14:00 runs once, late.
        #expect(daemon.stop() == 0, "log: \(daemon.log)")
        daemon = try simulatedDaemon(site, at: "2026-11-08T15:00+08:00")
        let caughtUp = try cli.setClock("2026-11-08T15:00")
        #expect(caughtUp.stepsRun == 2)
        rows = try cli.audit(instance: id)
        let repeats = rows.filter { $0.event == "reminder.repeated" && $0.step == "check" }
        #expect(repeats.count == 2)
        #expect(repeats.last?.at == "2026-11-08T15:00:00+08:00")
        #expect(repeats.last?.fields["coalesced"] == "5")
        let escalations = rows.filter { $0.event == "reminder.escalated" }
        #expect(escalations.count == 1)
        #expect(escalations.first?.fields["to"] == "wanghong")
        #expect(escalations.first?.fields["late_by_seconds"] == "3600")
        #expect(daemon.log.contains("2 steps caught up, longest 17h0m late"), "log: \(daemon.log)")
        let status = try cli.json(StatusResult.self, ["status"])
        #expect(status.counts["caught_up_steps"] == 2)
        #expect(status.counts["longest_late_seconds"] == 17 * 3600)

        // The street acknowledges; nothing about that reminder happens again.
        let escalated = try #require(try cli.inbox("wanghong").first { $0.id == check.id })
        #expect(escalated.level == 1 && escalated.overdue)
        try cli.ack(check.id, as: "wanghong")
        try cli.setClock("2026-11-12T09:00")
        detail = try cli.show(id)
        #expect(detail.state == "completed")
        #expect(detail.steps.allSatisfy { $0.state == "done" })
        rows = try cli.audit(instance: id)
        for step in drillSteps {
            #expect(rows.filter { $0.step == step && stepRanEvents.contains($0.event) }.count == 1, "step \(step)")
        }
        let ackSeq = try #require(rows.first { $0.event == "reminder.acknowledged" && $0.step == "check" }?.seq)
        #expect(!rows.contains { $0.step == "check" && $0.seq > ackSeq && ["reminder.repeated", "reminder.escalated"].contains($0.event) })
        #expect(detail.reminders.count == 2)
        #expect(try cli.run(["audit", "--verify"]).status == 0)
        #expect(daemon.stop() == 0, "log: \(daemon.log)")
    }
}

/// Requests the daemon refuses, through the CLI: exit 4, a message naming what is wrong.
@Suite struct EngineRefusalTests {
    @Test func refusalsNameWhoAndWhat() throws {
        let site = try TestSite(checkoutWorkflows: ["community-election-cycle.yaml"])
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-11-01T09:00+08:00")
        let cli = EngineCLI(socket: site.socketPath)
        let id = try cli.start("community-election-cycle", ["unit": "guqiao-shequ", "election_day": "2026-12-20"])
        try cli.setClock("2026-11-10T09:00")
        let reminder = try #require(try cli.inbox("zhaomin").first)
        #expect(reminder.step == "form-election-committee")

        // Someone else's reminder.
        let notMine = try cli.run(["ack", "\(reminder.id)"], as: "wugang")
        #expect(notMine.status == 4)
        #expect(notMine.stderr.contains("reminder \(reminder.id) is addressed to zhaomin, not to wugang"), "stderr: \(notMine.stderr)")
        #expect(notMine.stderr.contains("[not_recipient]"))
        #expect(notMine.stdout.isEmpty)

        // Twice.
        try cli.ack(reminder.id, as: "zhaomin")
        let twice = try cli.run(["ack", "\(reminder.id)"], as: "zhaomin")
        #expect(twice.status == 4)
        #expect(twice.stderr.contains("already acknowledged by zhaomin at 2026-11-10 09:00"), "stderr: \(twice.stderr)")
        #expect(twice.stderr.contains("[already_acknowledged]"))
        let unknown = try cli.run(["ack", "9999"], as: "zhaomin")
        #expect(unknown.status == 4 && unknown.stderr.contains("no reminder 9999"), "stderr: \(unknown.stderr)")

        // Bad starts: each names the parameter or workflow.
        let missing = try cli.run(["start", "community-election-cycle", "--param", "unit=guqiao-shequ"])
        #expect(missing.status == 4)
        #expect(missing.stderr.contains("election_day"), "stderr: \(missing.stderr)")
        let extra = try cli.run(["start", "community-election-cycle", "--param", "unit=guqiao-shequ", "--param", "election_day=2026-12-20",
                                 "--param", "bogus=1"])
        #expect(extra.status == 4)
        #expect(extra.stderr.contains("bogus"), "stderr: \(extra.stderr)")
        let badUnit = try cli.run(["start", "community-election-cycle", "--param", "unit=nowhere", "--param", "election_day=2026-12-20"])
        #expect(badUnit.status == 4 && badUnit.stderr.contains("nowhere"), "stderr: \(badUnit.stderr)")
        let badDate = try cli.run(["start", "community-election-cycle", "--param", "unit=guqiao-shequ", "--param", "election_day=12/20"])
        #expect(badDate.status == 4 && badDate.stderr.contains("election_day"), "stderr: \(badDate.stderr)")
        let noWorkflow = try cli.run(["start", "no-such-flow", "--param", "unit=guqiao-shequ"])
        #expect(noWorkflow.status == 4)
        #expect(noWorkflow.stderr.contains("no-such-flow") && noWorkflow.stderr.contains("community-election-cycle"), "stderr: \(noWorkflow.stderr)")
        #expect(try cli.instances().map(\.id) == [id], "a refused start leaves nothing behind")

        // The simulated clock only moves forward, by a readable amount.
        let backwards = try cli.run(["clock", "set", "2026-11-01T09:00"])
        #expect(backwards.status == 4 && backwards.stderr.contains("[clock_backwards]"), "stderr: \(backwards.stderr)")
        let badDuration = try cli.run(["clock", "advance", "3x"])
        #expect(badDuration.status == 4 || badDuration.status == 2 || badDuration.status == 64, "stderr: \(badDuration.stderr)")
        #expect(isoInstant(try cli.json(ClockResult.self, ["clock"]).now) == shanghaiTime("2026-11-10T09:00"))

        // Refusals are not recorded as actions.
        let rows = try cli.audit()
        #expect(rows.filter { $0.event == "reminder.acknowledged" }.count == 1)
        #expect(rows.filter { $0.event == "instance.started" }.count == 1)
        #expect(daemon.stop() == 0, "log: \(daemon.log)")
    }

    @Test func updateRederivesDueTimesAndCancelClosesOpenReminders() throws {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["drill.yaml": drillWorkflow])
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-11-01T09:00+08:00")
        let cli = EngineCLI(socket: site.socketPath)
        let id = try cli.start("drill", ["unit": "xijie", "day": "2026-11-10"])

        // Postpone the drill by a week: pending steps move with it.
        let moved = try cli.json(UpdateResult.self, ["update", "\(id)", "--param", "day=2026-11-17"])
        #expect(moved.changed.map(\.param) == ["day"] && moved.changed.first?.old == "2026-11-10")
        #expect(Set(moved.rederived.map(\.step)) == ["open", "notify", "check", "close"])
        #expect(moved.rederived.first { $0.step == "notify" }?.newDue == "2026-11-12T10:30:00+08:00")
        try cli.setClock("2026-11-07T09:00")
        #expect(try cli.inbox("linfeng").isEmpty, "nothing is due at the old dates any more")
        try cli.setClock("2026-11-12T11:00")
        let reminder = try #require(try cli.inbox("linfeng").first)
        #expect(reminder.step == "notify" && reminder.due == "2026-11-12T10:30:00+08:00")
        let badUpdate = try cli.run(["update", "\(id)", "--param", "day=someday"])
        #expect(badUpdate.status == 4 && badUpdate.stderr.contains("day"), "stderr: \(badUpdate.stderr)")

        // Cancel: the open reminder is cancelled, and stays so.
        let blank = try cli.run(["cancel", "\(id)", "--reason", "  "])
        #expect(blank.status == 4 || blank.status == 2 || blank.status == 64, "stderr: \(blank.stderr)")
        let cancelled = try cli.json(CancelResult.self, ["cancel", "\(id)", "--reason", "演练取消"])
        #expect(cancelled.cancelledReminders == 1 && cancelled.cancelledSteps == 5)
        let late = try cli.run(["ack", "\(reminder.id)"], as: "linfeng")
        #expect(late.status == 4 && late.stderr.contains("cancelled"), "stderr: \(late.stderr)")
        let again = try cli.run(["cancel", "\(id)", "--reason", "再次"])
        #expect(again.status == 4 && again.stderr.contains("already cancelled"), "stderr: \(again.stderr)")
        try cli.setClock("2026-11-30T09:00")
        let detail = try cli.show(id)
        #expect(detail.state == "cancelled" && detail.cancelReason == "演练取消")
        #expect(detail.reminders.map(\.state) == ["cancelled"])
        let rows = try cli.audit(instance: id)
        #expect(rows.map(\.event) == ["instance.started", "instance.updated", "step.recorded", "reminder.sent", "instance.cancelled"])
        #expect(try cli.inbox("linfeng").isEmpty && cli.inbox("majun").isEmpty)
        #expect(try cli.run(["audit", "--verify"]).status == 0)
        #expect(daemon.stop() == 0, "log: \(daemon.log)")
    }

    @Test func theRealClockCannotBeMoved() throws {
        let site = try TestSite()
        defer { site.remove() }
        let daemon = try TestDaemon(site: site)
        let cli = EngineCLI(socket: site.socketPath)
        for arguments in [["clock", "advance", "1d"], ["clock", "set", "2030-01-01T09:00"]] {
            let result = try cli.run(arguments)
            #expect(result.status == 4, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("--simulated-clock"), "stderr: \(result.stderr)")
            #expect(result.stderr.contains("[real_clock]"), "stderr: \(result.stderr)")
        }
        let clock = try cli.json(ClockResult.self, ["clock"])
        #expect(clock.mode == "real" && clock.stepsRun == 0)
        #expect(abs(isoInstant(clock.now).timeIntervalSinceNow) < 60)
        #expect(daemon.stop() == 0, "log: \(daemon.log)")
    }
}

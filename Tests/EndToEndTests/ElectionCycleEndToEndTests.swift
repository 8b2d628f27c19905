import ControlProtocol
import Foundation
import Testing

/// A realistic election cycle (社区居民委员会换届选举, community-election-cycle) of 古桥社区 on
/// the simulated clock, from the first reminder to the handover and archive, driven through the
/// real CLI only.
@Suite struct ElectionCycleEndToEndTests {
    static let start = "2026-11-01T09:00+08:00"
    static let params = ["unit": "guqiao-shequ", "election_day": "2026-12-20"]

    @Test func anElectionCycleRunsFromStartToHandoverOnTheSimulatedClock() throws {
        let site = try TestSite(checkoutWorkflows: ["community-election-cycle.yaml"])
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: Self.start)
        let cli = EngineCLI(socket: site.socketPath)

        // The oracle: the offline plan of the same instance.
        let planned = try huaying(["--config", site.configPath, "plan", "community-election-cycle", "--start", "2026-11-01T09:00", "--json"]
                                  + Self.params.sorted { $0.key < $1.key }.flatMap { ["--param", "\($0.key)=\($0.value)"] })
        #expect(planned.status == 0, "stderr: \(planned.stderr)")
        let plan = try JSONDecoder().decode(PlanOutput.self, from: Data(planned.stdout.utf8))
        let planStep = Dictionary(uniqueKeysWithValues: plan.steps.map { ($0.id, $0) })
        let expectedAssignees = planStep.mapValues { Set($0.assignees.flatMap(\.people).map(\.user)) }
        // The plan itself agrees with the org chart (spot checks, so a broken planner cannot
        // make a broken engine look right).
        #expect(expectedAssignees["form-election-committee"] == ["zhaomin"])
        #expect(expectedAssignees["publish-voter-list"] == ["sunli", "wugang", "zhengfang"])
        #expect(expectedAssignees["vote"] == ["sunli", "wugang", "zhengfang", "fengtao"])
        #expect(expectedAssignees["vet-candidates"] == ["liuqiang", "chenzhi", "zhoujie", "wulan"])
        #expect(planStep["form-election-committee"]?.due?.instant == "2026-11-10T09:00:00+08:00")
        #expect(planStep["publish-voter-list"]?.due?.instant == "2026-11-25T09:00:00+08:00")
        #expect(planStep["form-election-committee"]?.escalations.map(\.at.instant) == ["2026-11-13T09:00:00+08:00", "2026-11-16T09:00:00+08:00"])
        let everyone = Set(expectedAssignees.values.flatMap { $0 }).union(plan.steps.flatMap { $0.escalations.flatMap(\.to.people).map(\.user) })

        let id = try cli.start("community-election-cycle", Self.params, as: "zhaomin")
        var detail = try cli.show(id)
        #expect(detail.state == "running")
        #expect(detail.startedBy == "root as zhaomin")
        #expect(detail.steps.map(\.id) == plan.steps.map(\.id))
        #expect(detail.reminders.isEmpty)
        // Steps with their own date have it from the start, the same as the plan's.
        for step in detail.steps {
            if let due = planStep[step.id]?.due, !due.estimate {
                #expect(step.due.map(isoInstant) == isoInstant(due.instant), "step \(step.id)")
            }
            #expect(step.state == "pending", "step \(step.id)")
        }

        // Held back: form-election-committee until it reached the city (level 2), then
        // acknowledged there; publish-voter-list until it reached the street (level 1), then
        // acknowledged by the street before it would go to the city.
        let heldToCity = "form-election-committee", heldToStreet = "publish-voter-list"
        var seen: [Int: ReminderInfo] = [:]
        var appearedAt: [String: Date] = [:]
        var now = try cli.now()
        var previous = now
        var escalationsSeen: [String: [Int]] = [:]
        var acknowledgedInThisTurn = false
        let limit = shanghaiTime("2027-03-01T09:00")
        while detail.state == "running" {
            // New reminders: each appears once, in the inboxes of exactly its assignees.
            for reminder in detail.reminders where seen[reminder.id] == nil {
                seen[reminder.id] = reminder
                let due = isoInstant(reminder.due)
                appearedAt[reminder.step] = due
                #expect(detail.reminders.filter { $0.step == reminder.step }.count == 1, "one reminder per step: \(reminder.step)")
                #expect(Set(reminder.assignees) == expectedAssignees[reminder.step], "assignees of \(reminder.step)")
                #expect(reminder.level == 0, "\(reminder.step) appears at level 0")
                if acknowledgedInThisTurn {
                    #expect(due == now, "\(reminder.step) follows an acknowledgement at once")
                } else {
                    #expect(due > previous && due <= now, "\(reminder.step) due \(reminder.due) appeared between \(previous) and \(now)")
                }
                if let planned = planStep[reminder.step]?.due, !planned.estimate {
                    #expect(due == isoInstant(planned.instant), "\(reminder.step) is due when the plan says")
                }
                for user in expectedAssignees[reminder.step] ?? [] {
                    #expect(try cli.inbox(user).contains { $0.id == reminder.id }, "\(reminder.step) is in \(user)'s inbox")
                }
                for user in everyone.subtracting(expectedAssignees[reminder.step] ?? []).sorted().prefix(3) {
                    #expect(try !cli.inbox(user).contains { $0.id == reminder.id }, "\(reminder.step) is not in \(user)'s inbox")
                }
            }
            // Escalations: to the holders of the next level, on the plan's dates.
            for reminder in detail.reminders where reminder.state == "open" && reminder.level > (escalationsSeen[reminder.step]?.last ?? 0) {
                escalationsSeen[reminder.step, default: []].append(reminder.level)
                let planned = planStep[reminder.step]?.escalations.first { $0.level == reminder.level }
                #expect(planned != nil, "\(reminder.step) escalated to level \(reminder.level), which the plan does not have")
                if let planned {
                    let at = isoInstant(planned.at.instant)
                    #expect(at > previous && at <= now, "\(reminder.step) level \(reminder.level) at \(planned.at.instant), seen at \(now)")
                    for user in planned.to.people.map(\.user) {
                        let inbox = try cli.inbox(user)
                        let mine = inbox.first { $0.id == reminder.id }
                        #expect(mine?.level == reminder.level, "\(reminder.step) escalated into \(user)'s inbox")
                        // Overdue once the deadline has passed (escalation happens at it, not after it).
                        let deadline = mine?.deadline.map(isoInstant) ?? .distantFuture
                        #expect(mine?.overdue == (now > deadline), "\(reminder.step) overdue at \(now), deadline \(deadline)")
                    }
                }
            }

            // Acknowledge what is open, as one of the people it is addressed to.
            acknowledgedInThisTurn = false
            for reminder in detail.reminders where reminder.state == "open" {
                let user: String
                switch reminder.step {
                case heldToCity:
                    guard reminder.level == 2 else { continue }
                    #expect(reminder.assignees.contains("lijianguo") && reminder.assignees.contains("zhouyan"))
                    user = "zhouyan"
                case heldToStreet:
                    guard reminder.level == 1 else { continue }
                    user = "wanghong"
                default:
                    user = (expectedAssignees[reminder.step] ?? []).sorted().first ?? "?"
                }
                let acked = try cli.ack(reminder.id, as: user, note: "已办：\(reminder.step)")
                #expect(acked.state == "acked" && acked.ackedBy == user && acked.ackedAt.map(isoInstant) == now)
                acknowledgedInThisTurn = true
            }
            if !acknowledgedInThisTurn {
                previous = now
                now = isoInstant(try cli.advance("1d").now)
                #expect(now == previous.addingTimeInterval(86_400))
                try #require(now < limit, "the election cycle did not complete by \(limit): \(detail.steps.filter { $0.state != "done" }.map(\.id))")
            }
            detail = try cli.show(id)
        }

        // The end state: completed, every step done once.
        #expect(detail.state == "completed")
        #expect(detail.endedAt != nil)
        for step in detail.steps {
            #expect(step.state == "done", "step \(step.id) is \(step.state)")
            #expect(step.doneAt != nil, "step \(step.id) has done_at")
            #expect(step.lateBySeconds == 0, "nothing is late on the simulated clock: \(step.id)")
        }
        #expect(detail.reminders.allSatisfy { $0.state == "acked" })
        #expect(Set(detail.reminders.map(\.step)).count == detail.reminders.count)
        let stepOf = Dictionary(uniqueKeysWithValues: detail.steps.map { ($0.id, $0) })
        #expect(stepOf[heldToCity]?.ackedBy == "zhouyan")
        #expect(stepOf[heldToStreet]?.ackedBy == "wanghong")
        #expect(escalationsSeen[heldToCity] == [1, 2])
        #expect(escalationsSeen[heldToStreet] == [1])
        #expect(Set(escalationsSeen.keys) == [heldToCity, heldToStreet])
        // After-steps wait for the acknowledgement of what they follow.
        #expect(stepOf["adopt-election-plan"]?.due == stepOf[heldToCity]?.ackedAt)
        #expect(stepOf["election-committee-recorded"]?.doneAt == stepOf[heldToCity]?.ackedAt)

        // The ledger tells the same story.
        let rows = try cli.audit(instance: id)
        #expect(rows.first?.event == "instance.started")
        // No heads were named with the results, so the chain to the pre-appointment talk is skipped
        // (and says so); the term reminder is not loaded on this site, so its chain fails visibly.
        let completedSeq = rows.first { $0.event == "instance.completed" }?.seq ?? .max
        #expect(Set(rows.filter { $0.seq > completedSeq }.map(\.event)) == ["chain.skipped", "chain.failed"])
        #expect(rows.filter { $0.event == "instance.completed" }.count == 1)
        for step in detail.steps {
            let ran = rows.filter { $0.step == step.id && stepRanEvents.contains($0.event) }
            #expect(ran.count == 1, "step \(step.id) ran \(ran.count) times")
            #expect(ran.first?.event == (step.uses == "record" ? "step.recorded" : "reminder.sent"))
            if step.uses == "remind" {
                #expect(ran.first.map { isoInstant($0.at) } == appearedAt[step.id], "the reminder of \(step.id) was sent when due")
                #expect(rows.filter { $0.step == step.id && $0.event == "reminder.acknowledged" }.count == 1)
            }
        }
        #expect(!rows.contains { $0.event == "step.failed" || $0.event == "escalation.failed" })

        let escalatedToCity = rows.filter { $0.step == heldToCity && $0.event == "reminder.escalated" }
        #expect(escalatedToCity.map { isoInstant($0.at) } == planStep[heldToCity]!.escalations.map { isoInstant($0.at.instant) })
        #expect(escalatedToCity.map { $0.fields["to"] } == ["wanghong", "lijianguo,zhouyan"])
        #expect(escalatedToCity.map { $0.fields["level"] } == ["1", "2"])
        let escalatedToStreet = rows.filter { $0.step == heldToStreet && $0.event == "reminder.escalated" }
        #expect(escalatedToStreet.map { isoInstant($0.at) } == [isoInstant(planStep[heldToStreet]!.escalations[0].at.instant)])
        // Acknowledging stopped everything for that reminder: no repeat or escalation after it.
        for held in [heldToCity, heldToStreet] {
            let ackSeq = rows.first { $0.step == held && $0.event == "reminder.acknowledged" }?.seq ?? 0
            let after = rows.filter { $0.step == held && ["reminder.repeated", "reminder.escalated"].contains($0.event) && $0.seq > ackSeq }
            #expect(after.isEmpty, "after the acknowledgement of \(held): \(after.map(\.event))")
            #expect(rows.contains { $0.step == held && $0.event == "reminder.repeated" }, "\(held) was repeated while unacknowledged")
        }
        // The acknowledgements say who acted for whom.
        let ackRow = rows.first { $0.step == heldToCity && $0.event == "reminder.acknowledged" }
        #expect(ackRow?.actor == "root as zhouyan")
        #expect(ackRow?.fields["note"] == "已办：\(heldToCity)")

        // Nobody has anything open any more; the chain verifies.
        for user in everyone.sorted() {
            #expect(try cli.inbox(user).isEmpty, "\(user)'s inbox is empty at the end")
        }
        let verify = try cli.run(["audit", "--verify"])
        #expect(verify.status == 0, "stdout: \(verify.stdout) stderr: \(verify.stderr)")
        #expect(verify.stdout.contains("ledger verified:"))
        let human = try cli.run(["show", "\(id)"])
        #expect(human.status == 0 && human.stdout.contains("handover") && human.stdout.contains("zhouyan"))

        #expect(daemon.stop() == 0, "log: \(daemon.log)")
    }
}

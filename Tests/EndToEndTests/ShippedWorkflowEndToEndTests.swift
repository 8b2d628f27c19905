import ControlProtocol
import Foundation
import Testing

// End-to-end runs of the shipped workflows other than the election cycle (which has its own
// file), on the simulated clock, through the real `huaying` CLI only: start an instance with
// realistic params, move the clock from one due instant to the next (never sleeping), check
// that every reminder reaches the right inboxes when the offline plan says, leave some
// reminders unacknowledged until they escalate, acknowledge the rest as the people they went to,
// run to `completed` and read the ledger back. Plus the two triggers (12-01 year-end review,
// quarterly disclosure) and the election → pre-appointment-talk chain.

/// The offline plan of one instance (`start` in the configured zone: `2026-09-24T18:00`).
private func plan(_ site: TestSite, _ workflow: String, start: String, _ params: [String: String]) throws -> PlanOutput {
    let result = try huaying(["--config", site.configPath, "plan", workflow, "--start", start, "--json"]
                             + params.sorted { $0.key < $1.key }.flatMap { ["--param", "\($0.key)=\($0.value)"] })
    guard result.status == 0 else { throw Failure("plan \(workflow) exited \(result.status): \(result.stderr)") }
    return try JSONDecoder().decode(PlanOutput.self, from: Data(result.stdout.utf8))
}

/// `huaying calendar add DATE "N workdays"`: a date the calendar computes, for spot checks.
private func calendarAdd(_ site: TestSite, _ date: String, _ amount: String) throws -> String {
    let result = try huaying(["--config", site.configPath, "calendar", "add", date, amount])
    guard result.status == 0 else { throw Failure("calendar add exited \(result.status): \(result.stderr)") }
    return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// The community unit ids of the site's org chart, in file order: the units the community-*
/// variants start for.
private func communities(_ site: TestSite) throws -> [String] {
    let text = try String(contentsOf: site.root.appendingPathComponent("etc/staff.yaml"), encoding: .utf8)
    return text.split(separator: "\n").compactMap { line -> String? in
        guard line.contains("kind: community"), let id = line.range(of: "id:") else { return nil }
        return line[id.upperBound...].split(separator: ",").first?.trimmingCharacters(in: .whitespaces)
    }
}

/// A reminder deliberately left unacknowledged until its escalation reaches `level`; then `by`,
/// one of the people it was escalated to (or an earlier recipient), acknowledges it.
private struct Hold {
    var level: Int
    var by: String
    var note: String?
}

/// Drives one instance to its end: the loop of the election test, generalised. Each turn checks
/// what appeared (new reminders, escalations), acknowledges what is open (except held reminders
/// below their level), and when nothing was acknowledged sets the clock to the instance's next
/// due instant — so every reminder and escalation is seen at exactly the instant it happens.
private final class WorkflowRun {
    let cli: EngineCLI
    let id: Int
    let plan: PlanOutput
    let holds: [String: Hold]
    /// Who acknowledges a step (default: the first of its level-0 recipients by name).
    var acknowledger: [String: String] = [:]
    var notes: [String: String] = [:]
    /// `--set NAME=VALUE` values given with a step's acknowledgement.
    var fields: [String: [String]] = [:]
    /// Extra checks on every state of the instance the loop sees.
    var eachTurn: (InstanceDetail) -> Void = { _ in }

    private(set) var appearedAt: [String: Date] = [:]
    private(set) var escalatedAt: [String: [Date]] = [:]
    private(set) var turns = 0
    private var seen: Set<Int> = []
    private var levelSeen: [Int: Int] = [:]

    init(cli: EngineCLI, id: Int, plan: PlanOutput, holds: [String: Hold] = [:]) {
        self.cli = cli
        self.id = id
        self.plan = plan
        self.holds = holds
    }

    func drive(until limit: Date) throws -> InstanceDetail {
        var detail = try cli.show(id)
        var now = try cli.now()
        while detail.state == "running" {
            eachTurn(detail)
            try checkNewReminders(detail, now: now)
            try checkEscalations(detail, now: now)
            var acknowledged = false
            for reminder in detail.reminders where reminder.state == "open" {
                guard let user = try acknowledgingUser(reminder, now: now) else { continue }
                let note = holds[reminder.step]?.note ?? notes[reminder.step] ?? "已办：\(reminder.step)"
                let acked = try cli.json(ReminderInfo.self, ["ack", "\(reminder.id)", "--note", note]
                                         + (fields[reminder.step] ?? []).flatMap { ["--set", $0] }, as: user)
                #expect(acked.state == "acked" && acked.ackedBy == user && acked.ackedAt.map(isoInstant) == now,
                        "ack of \(reminder.step) as \(user): \(acked)")
                #expect(acked.note == note)
                acknowledged = true
            }
            if !acknowledged {
                turns += 1
                try #require(turns < 250, "instance \(id) (\(detail.workflow)) is still running after \(turns) clock moves")
                let summary = try cli.instances().first { $0.id == id }
                let nextText = try #require(summary?.nextDue,
                                            "instance \(id) runs with nothing scheduled; steps: \(detail.steps.map { "\($0.id)=\($0.state)" })")
                let next = isoInstant(nextText)
                try #require(next > now, "next due \(nextText) is not after now \(shanghaiISO(now))")
                try #require(next <= limit, "\(detail.workflow) did not complete by \(shanghaiISO(limit)); open: \(detail.steps.filter { $0.state != "done" }.map(\.id))")
                now = isoInstant(try cli.setClock(nextText).now)
                #expect(now == next)
            }
            detail = try cli.show(id)
        }
        return detail
    }

    /// Every new reminder: one per step, at level 0, due now (and when the plan says), in the
    /// inboxes of exactly the plan's assignees.
    private func checkNewReminders(_ detail: InstanceDetail, now: Date) throws {
        for reminder in detail.reminders where !seen.contains(reminder.id) {
            seen.insert(reminder.id)
            let due = isoInstant(reminder.due)
            appearedAt[reminder.step] = due
            let planned = plan.step(reminder.step)
            let expected = planned?.users ?? []
            #expect(detail.reminders.filter { $0.step == reminder.step }.count == 1, "one reminder per step: \(reminder.step)")
            #expect(Set(reminder.assignees) == expected, "assignees of \(reminder.step): \(reminder.assignees)")
            #expect(reminder.level == 0, "\(reminder.step) appears at level 0")
            #expect(due == now, "\(reminder.step) due \(reminder.due) seen at \(shanghaiISO(now))")
            // Without `after:` the plan knows the date; with it, the plan's estimate holds when
            // the steps before were acknowledged on time.
            let plannedDue = planned?.due
            let onPlan = plannedDue.map { $0.date == due } ?? false
            if let plannedDue, !plannedDue.estimate {
                #expect(due == plannedDue.date, "\(reminder.step) due \(reminder.due), planned \(plannedDue.local)")
            }
            if let ackBy = planned?.ackBy, !ackBy.estimate || onPlan {
                #expect(reminder.deadline.map(isoInstant) == ackBy.date, "ack-by of \(reminder.step): \(reminder.deadline ?? "nil"), planned \(ackBy.local)")
            }
            for user in expected.sorted() {
                #expect(try cli.inbox(user).contains { $0.id == reminder.id && $0.level == 0 }, "\(reminder.step) is in \(user)'s inbox")
            }
            for user in plan.everyone.subtracting(expected).sorted().prefix(2) {
                #expect(try !cli.inbox(user).contains { $0.id == reminder.id }, "\(reminder.step) is not in \(user)'s inbox yet")
            }
        }
    }

    /// Every escalation: one level at a time, when the plan says, into the inboxes of the people
    /// of that level.
    private func checkEscalations(_ detail: InstanceDetail, now: Date) throws {
        for reminder in detail.reminders where reminder.state == "open" && reminder.level > (levelSeen[reminder.id] ?? 0) {
            #expect(reminder.level == (levelSeen[reminder.id] ?? 0) + 1, "\(reminder.step) escalated one level at a time")
            levelSeen[reminder.id] = reminder.level
            escalatedAt[reminder.step, default: []].append(now)
            let step = plan.step(reminder.step)
            let planned = step?.escalations.first { $0.level == reminder.level }
            #expect(planned != nil, "\(reminder.step) escalated to level \(reminder.level), which the plan does not have")
            guard let planned else { continue }
            if !planned.at.estimate || step?.due.map({ $0.date == appearedAt[reminder.step] }) == true {
                #expect(planned.at.date == now, "\(reminder.step) level \(reminder.level) at \(shanghaiISO(now)), planned \(planned.at.local)")
            }
            for user in planned.to.people.map(\.user) {
                #expect(reminder.assignees.contains(user), "\(user) may acknowledge \(reminder.step) now")
                let mine = try cli.inbox(user).first { $0.id == reminder.id }
                #expect(mine?.level == reminder.level, "\(reminder.step) escalated into \(user)'s inbox at level \(reminder.level)")
                let deadline = mine?.deadline.map(isoInstant) ?? .distantFuture
                #expect(mine?.overdue == (now > deadline), "\(reminder.step) overdue at \(shanghaiISO(now)), deadline \(deadline)")
            }
        }
    }

    /// Who acknowledges an open reminder now, or nil to leave it open.
    private func acknowledgingUser(_ reminder: ReminderInfo, now: Date) throws -> String? {
        guard let hold = holds[reminder.step] else {
            return acknowledger[reminder.step] ?? Set(reminder.assignees).sorted().first
        }
        guard reminder.level >= hold.level else { return nil }
        let escalatedTo = plan.step(reminder.step)?.escalations.filter { $0.level <= hold.level }.flatMap(\.to.people).map(\.user) ?? []
        #expect(escalatedTo.contains(hold.by), "\(hold.by) is someone \(reminder.step) was escalated to: \(escalatedTo)")
        let mine = try cli.inbox(hold.by).first { $0.id == reminder.id }
        #expect(mine != nil && (mine?.level ?? 0) >= 1, "\(hold.by) sees the escalated \(reminder.step): \(String(describing: mine))")
        return hold.by
    }

    /// The common end checks: completed, every step done once, the ledger tells the same story
    /// (one `reminder.sent`/`step.recorded` per step, the escalations of the held steps, who
    /// acknowledged), nobody has anything of it open, and the hash chain verifies.
    @discardableResult
    func checkCompleted(_ detail: InstanceDetail) throws -> [LedgerRow] {
        #expect(detail.state == "completed", "instance \(id) is \(detail.state)")
        #expect(detail.endedAt != nil)
        #expect(detail.steps.map(\.id) == plan.steps.map(\.id))
        for step in detail.steps {
            #expect(step.state == "done", "step \(step.id) is \(step.state)")
            #expect(step.doneAt != nil, "step \(step.id) has done_at")
            #expect(step.lateBySeconds == 0, "nothing is late on the simulated clock: \(step.id)")
        }
        #expect(detail.reminders.allSatisfy { $0.state == "acked" })
        #expect(Set(detail.reminders.map(\.step)).count == detail.reminders.count)
        let stepOf = Dictionary(uniqueKeysWithValues: detail.steps.map { ($0.id, $0) })

        let rows = try cli.audit(instance: id)
        #expect(rows.first?.event == "instance.started")
        #expect(rows.filter { $0.event == "instance.completed" }.count == 1)
        let completedSeq = rows.first { $0.event == "instance.completed" }?.seq ?? 0
        #expect(rows.filter { $0.seq > completedSeq }.allSatisfy { $0.event.hasPrefix("chain.") },
                "only chained starts follow the completion: \(rows.filter { $0.seq > completedSeq }.map(\.event))")
        #expect(!rows.contains { ["step.failed", "escalation.failed", "chain.failed"].contains($0.event) })
        for step in detail.steps {
            let ran = rows.filter { $0.step == step.id && stepRanEvents.contains($0.event) }
            #expect(ran.count == 1, "step \(step.id) ran \(ran.count) times")
            #expect(ran.first?.event == (step.uses == "record" ? "step.recorded" : "reminder.sent"), "step \(step.id): \(ran.map(\.event))")
            if step.uses == "remind" {
                #expect(ran.first.map { isoInstant($0.at) } == appearedAt[step.id], "the reminder of \(step.id) was sent when due")
                #expect(ran.first.map { Set(($0.fields["to"] ?? "").split(separator: ",").map(String.init)) } == plan.step(step.id)?.users,
                        "reminder.sent of \(step.id) names its recipients")
                let acks = rows.filter { $0.step == step.id && $0.event == "reminder.acknowledged" }
                #expect(acks.count == 1, "\(step.id) acknowledged once")
                #expect(acks.first?.actor.hasSuffix(" as \(step.ackedBy ?? "?")") == true, "who acknowledged \(step.id): \(acks.first?.actor ?? "-")")
            } else {
                #expect(ran.first.map { isoInstant($0.at) } == step.doneAt.map(isoInstant))
            }
        }

        // The held steps: escalated at each level up to the one they were acknowledged at, by
        // the person named, and nothing after the acknowledgement.
        #expect(Set(escalatedAt.keys) == Set(holds.keys), "escalated: \(escalatedAt.keys.sorted()), held: \(holds.keys.sorted())")
        for (stepID, hold) in holds {
            let escalated = rows.filter { $0.step == stepID && $0.event == "reminder.escalated" }
            #expect(escalated.map { $0.fields["level"] } == (1...hold.level).map { "\($0)" }, "escalations of \(stepID): \(escalated.map(\.fields))")
            #expect(escalated.map { isoInstant($0.at) } == escalatedAt[stepID], "escalation rows of \(stepID) at the instants seen")
            for row in escalated {
                let level = Int(row.fields["level"] ?? "") ?? 0
                let people = plan.step(stepID)?.escalations.first { $0.level == level }?.to.people.map(\.user) ?? []
                #expect(Set((row.fields["to"] ?? "").split(separator: ",").map(String.init)) == Set(people), "\(stepID) level \(level) to \(row.fields["to"] ?? "-")")
            }
            #expect(stepOf[stepID]?.ackedBy == hold.by, "\(stepID) acknowledged by \(stepOf[stepID]?.ackedBy ?? "-")")
            #expect(stepOf[stepID]?.ackedAt == escalatedAt[stepID]?.last.map(shanghaiISO), "\(stepID) acknowledged when it reached level \(hold.level)")
            let ackSeq = rows.first { $0.step == stepID && $0.event == "reminder.acknowledged" }?.seq ?? 0
            #expect(!rows.contains { $0.step == stepID && $0.seq > ackSeq && ["reminder.repeated", "reminder.escalated"].contains($0.event) })
            let late = try cli.inbox(hold.by, all: true).first { $0.instance == id && $0.step == stepID }
            #expect(late?.state == "acked" && late?.ackedBy == hold.by && (late?.level ?? 0) == hold.level)
        }

        for user in plan.everyone.sorted() {
            #expect(try cli.inbox(user).filter { $0.instance == id }.isEmpty, "\(user) has nothing of instance \(id) open")
        }
        let verify = try cli.run(["audit", "--verify"])
        #expect(verify.status == 0 && verify.stdout.contains("ledger verified:"), "stdout: \(verify.stdout) stderr: \(verify.stderr)")
        return rows
    }
}

private func steps(_ detail: InstanceDetail) -> [String: StepDetail] {
    Dictionary(uniqueKeysWithValues: detail.steps.map { ($0.id, $0) })
}

@Suite struct ShippedWorkflowEndToEndTests {
    // MARK: 任前廉政谈话

    /// A cadre elected on 2026-09-24 (the day before 中秋): the talk is scheduled on the next
    /// workday (09-28), missed by talk_by (10-24, a Saturday, so 10-26 18:00), escalated to the
    /// street's organisation member and the city discipline commission, and made up (补谈);
    /// nobody is "in office" before the pledge is acknowledged.
    @Test func preAppointmentTalkWithAMakeUpTalk() throws {
        let site = try TestSite(checkoutWorkflows: ["pre-appointment-talk.yaml"])
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-09-24T18:00+08:00")
        let cli = EngineCLI(socket: site.socketPath)
        let params = ["unit": "guqiao-shequ", "cadre": "赵敏", "result_day": "2026-09-24"]
        let oracle = try plan(site, "pre-appointment-talk", start: "2026-09-24T18:00", params)
        #expect(oracle.param("talk_by") == "2026-10-24")
        #expect(oracle.step("schedule-talk")?.due?.local == "2026-09-28T09:00")
        #expect(oracle.step("schedule-talk")?.users == ["chenzhi", "liuqiang"])
        #expect(oracle.step("talk")?.deadline?.local == "2026-10-26T18:00")
        #expect(oracle.step("talk")?.escalations.map(\.at.local) == ["2026-10-26T18:00", "2026-10-28T18:00"])
        #expect(oracle.step("talk")?.escalations.map { $0.to.people.map(\.user) } == [["liuqiang"], ["qiandong"]])

        let id = try cli.start("pre-appointment-talk", params, as: "liuqiang")
        let run = WorkflowRun(cli: cli, id: id, plan: oracle,
                              holds: ["talk": Hold(level: 2, by: "liuqiang", note: "补谈 2026-10-28，谈话记录双方已签字")])
        run.acknowledger["schedule-talk"] = "chenzhi"
        // The gate: no 到任 while the pledge is not acknowledged.
        run.eachTurn = { detail in
            let step = steps(detail)
            if step["pledge"]?.state != "done" {
                #expect(step["in-office"]?.state == "pending", "in office before the pledge: \(step["in-office"]?.state ?? "-")")
            }
        }
        let detail = try run.drive(until: shanghaiTime("2026-12-31T09:00"))
        let rows = try run.checkCompleted(detail)
        let step = steps(detail)

        #expect(step["talk-list"]?.doneAt.map(isoInstant) == shanghaiTime("2026-09-24T18:00"))
        #expect(run.appearedAt["schedule-talk"] == shanghaiTime("2026-09-28T09:00"))
        #expect(step["talk"]?.ackedAt.map(isoInstant) == shanghaiTime("2026-10-28T18:00"))
        #expect(rows.contains { $0.step == "talk" && $0.event == "reminder.repeated" }, "the missed talk was reminded again")
        // The make-up talk is on record with its note and a time after the deadline.
        let recorded = rows.first { $0.step == "talk-recorded" && $0.event == "step.recorded" }
        #expect(recorded?.fields["note"] == "补谈 2026-10-28，谈话记录双方已签字")
        #expect(recorded?.fields["confirmed_by"] == "liuqiang")
        // 到任 only after, and exactly when, the pledge was acknowledged.
        let pledgeAck = rows.first { $0.step == "pledge" && $0.event == "reminder.acknowledged" }
        let inOffice = rows.first { $0.step == "in-office" && $0.event == "step.recorded" }
        #expect((pledgeAck?.seq ?? .max) < (inOffice?.seq ?? 0))
        #expect(step["in-office"]?.doneAt == step["pledge"]?.ackedAt)
        #expect(inOffice?.fields["pledge_confirmed_by"] == step["pledge"]?.ackedBy)
        #expect(daemon.stop() == 0, "log: \(daemon.log)")
    }

    // MARK: 年底述职评议

    /// The yearly trigger of the community variant starts one review per community at 12-01
    /// 09:00 (none before); 古桥社区's is then driven to its end with the written reports
    /// escalated to the street.
    @Test func yearEndReviewStartsForEveryCommunityOnDecemberFirst() throws {
        let site = try TestSite(checkoutWorkflows: ["community-year-end-review.yaml"])
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-11-29T09:00+08:00")
        let cli = EngineCLI(socket: site.socketPath)
        let units = try communities(site)
        #expect(units.count == 5 && units.contains("guqiao-shequ") && !units.contains("huangjue"))

        try cli.advance("1d")
        #expect(try cli.instances().isEmpty, "nothing on 11-30")
        try cli.setClock("2026-12-01T08:59")
        #expect(try cli.instances().isEmpty, "nothing before 12-01 09:00")
        try cli.advance("1m")
        var started = try cli.instances()
        #expect(started.count == units.count)
        #expect(started.compactMap(\.unit).sorted() == units.sorted())
        #expect(started.allSatisfy { $0.workflow == "community-year-end-review" && $0.state == "running" })
        #expect(started.allSatisfy { isoInstant($0.startedAt) == shanghaiTime("2026-12-01T09:00") })
        #expect(started.allSatisfy { $0.startedBy.contains("trigger") }, "\(started.map(\.startedBy))")
        try cli.advance("1d")
        started = try cli.instances()
        #expect(started.count == units.count, "the occurrence starts each unit once")

        // trigger.spread: the street's 组织委员 attends each meeting, so the communities under one
        // street meet one workday apart (2027-01-01 is 元旦, 01-02/03 a weekend).
        var meetingDay: [String: String] = [:]
        for instance in started { meetingDay[instance.unit ?? "?"] = try cli.show(instance.id).params["meeting_day"] }
        #expect(meetingDay == ["guqiao-shequ": "2026-12-31", "guanghua-dadao": "2027-01-04", "dujiaping": "2027-01-05",
                               "xijie": "2026-12-31", "dongyuan": "2027-01-04"])

        let guqiao = try #require(started.first { $0.unit == "guqiao-shequ" })
        for other in started where other.id != guqiao.id {
            let cancelled = try cli.run(["cancel", "\(other.id)", "--reason", "本测试只推进古桥社区的述职评议"])
            #expect(cancelled.status == 0, "\(cancelled.stderr)")
        }
        let oracle = try plan(site, "community-year-end-review", start: "2026-12-01T09:00", ["unit": "guqiao-shequ"])
        #expect(oracle.param("meeting_day") == "2026-12-31")
        // The first community of the street keeps meeting_day's default (start + 30 days).
        let shown = try cli.show(guqiao.id)
        #expect(shown.params["unit"] == "guqiao-shequ")
        #expect(shown.steps.first { $0.id == "notice" }?.due.map(isoInstant) == shanghaiTime("2026-12-18T09:00"))
        #expect(oracle.step("notice")?.due?.local == "2026-12-18T09:00")
        #expect(oracle.step("notice")?.deadline?.local == "2026-12-21T18:00", "M−10")
        #expect(oracle.step("written-reports")?.deadline?.local == "2026-12-28T18:00", "M−3")
        #expect(oracle.step("written-reports")?.escalations.map { $0.to.people.map(\.user) } == [["liuqiang"]])

        let run = WorkflowRun(cli: cli, id: guqiao.id, plan: oracle,
                              holds: ["written-reports": Hold(level: 1, by: "liuqiang", note: "书面述职报告已收齐（街道督办）")])
        run.acknowledger = ["notice": "zhaomin", "review-meeting": "zhaomin", "publish-results": "liuqiang", "follow-up-talks": "chenzhi"]
        run.notes = ["democratic-rating": "赵敏：优秀；孙丽：合格", "follow-up-talks": "无"]
        let detail = try run.drive(until: shanghaiTime("2027-02-01T09:00"))
        let rows = try run.checkCompleted(detail)
        let step = steps(detail)

        #expect(run.appearedAt["notice"] == shanghaiTime("2026-12-18T09:00"))
        #expect(run.escalatedAt["written-reports"] == [shanghaiTime("2026-12-28T18:00")])
        #expect(run.appearedAt["review-meeting"] == shanghaiTime("2026-12-31T09:00"))
        #expect(run.appearedAt["democratic-rating"] == shanghaiTime("2026-12-31T11:00"))
        #expect(step["review-meeting"]?.ackedBy == "zhaomin")
        let rating = rows.first { $0.step == "rating-recorded" && $0.event == "step.recorded" }
        #expect(rating?.fields["results"] == "赵敏：优秀；孙丽：合格")
        #expect(rating?.fields["chaired_by"] == "fengtao")
        #expect(rows.first { $0.step == "review-closed" }?.fields["follow_up"] == "无")
        // The cancelled reviews of the other units stay cancelled; nothing of theirs is open.
        #expect(try cli.instances().filter { $0.id != guqiao.id }.allSatisfy { $0.state == "cancelled" && $0.openReminders == 0 })
        #expect(daemon.stop() == 0, "log: \(daemon.log)")
    }

    // MARK: 乡镇（街道）社工站建设

    /// One plan year (2026) of 古桥街道's social-work station: the plan on the first workday
    /// (01-04, a make-up Sunday), the site escalated to the city bureau at the end of Q1,
    /// opening mid-year, four quarterly reviews (Q3 after National Day), year-end evaluation.
    @Test func socialWorkerStationForAStreet() throws {
        let site = try TestSite(checkoutWorkflows: ["social-worker-station.yaml"])
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-01-01T09:00+08:00")
        let cli = EngineCLI(socket: site.socketPath)
        let params = ["unit": "guqiao", "start_day": "2026-01-01"]
        let oracle = try plan(site, "social-worker-station", start: "2026-01-01T09:00", params)
        #expect(oracle.param("opening_day") == "2026-07-01")
        #expect(oracle.step("annual-plan")?.due?.local == "2026-01-04T09:00")
        #expect(oracle.step("annual-plan")?.users == ["lijianguo", "zhouyan"])
        #expect(oracle.step("choose-site")?.users == ["wanghong"])
        #expect(oracle.step("choose-site")?.deadline?.local == "2026-03-31T18:00")
        #expect(oracle.step("review-q3")?.due?.local == "2026-10-08T09:00")
        #expect(oracle.step("year-end-evaluation")?.deadline?.local == "2026-12-31T18:00")

        let id = try cli.start("social-worker-station", params, as: "lijianguo")
        #expect(try cli.show(id).unit == "guqiao")
        let run = WorkflowRun(cli: cli, id: id, plan: oracle,
                              holds: ["choose-site": Hold(level: 1, by: "zhouyan", note: "市民政局督办，站点定于古桥街道便民服务中心二楼")])
        run.acknowledger = ["annual-plan": "zhouyan", "opening": "wanghong"]
        run.notes = ["year-end-evaluation": "评估良好，续签运营合同"]
        let detail = try run.drive(until: shanghaiTime("2027-03-01T09:00"))
        let rows = try run.checkCompleted(detail)
        let step = steps(detail)

        #expect(run.appearedAt["annual-plan"] == shanghaiTime("2026-01-04T09:00"))
        #expect(run.escalatedAt["choose-site"] == [shanghaiTime("2026-03-31T18:00")])
        #expect(rows.contains { $0.step == "choose-site" && $0.event == "reminder.repeated" })
        #expect(run.appearedAt["procurement"] == shanghaiTime("2026-03-31T18:00"), "procurement follows the site at once")
        #expect(run.appearedAt["opening"] == shanghaiTime("2026-07-01T09:00"))
        for (review, day) in [("review-q1", "2026-04-01"), ("review-q2", "2026-07-01"), ("review-q3", "2026-10-08")] {
            #expect(run.appearedAt[review] == shanghaiTime("\(day)T09:00"), "\(review)")
        }
        #expect(run.appearedAt["year-end-evaluation"] == shanghaiTime("2026-12-01T09:00"))
        #expect(rows.first { $0.step == "evaluated" }?.fields["result"] == "评估良好，续签运营合同")
        #expect(rows.first { $0.step == "opened" }?.fields["accepted_by"] == "wanghong")
        #expect(step["choose-site"]?.note == "市民政局督办，站点定于古桥街道便民服务中心二楼")
        #expect(daemon.stop() == 0, "log: \(daemon.log)")
    }

    // MARK: 社会组织孵化

    /// 双河街道 incubates one organisation: call on 05-18, window to 05-31, initial review
    /// escalated past its 5-workday limit (06-05 18:00), entry 06-30, mid-term evaluation,
    /// graduation a year later and the site handover within 15 workdays.
    @Test func socialOrgIncubationFromCallToHandover() throws {
        let site = try TestSite(checkoutWorkflows: ["social-org-incubation.yaml"])
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-05-18T09:00+08:00")
        let cli = EngineCLI(socket: site.socketPath)
        let params = ["unit": "shuanghe", "org": "双河邻里互助社", "call_day": "2026-05-18"]
        let oracle = try plan(site, "social-org-incubation", start: "2026-05-18T09:00", params)
        #expect(oracle.param("apply_until") == "2026-05-31")
        #expect(oracle.param("entry_day") == "2026-06-30")
        #expect(oracle.param("incubation_end") == "2027-06-30")
        #expect(oracle.step("call-for-applicants")?.users == ["majun"])
        #expect(oracle.step("initial-review")?.deadline?.local == "2026-06-05T18:00")
        #expect(oracle.step("initial-review")?.escalations.map { Set($0.to.people.map(\.user)) } == [["lijianguo", "zhouyan"]])

        let id = try cli.start("social-org-incubation", params, as: "majun")
        let run = WorkflowRun(cli: cli, id: id, plan: oracle,
                              holds: ["initial-review": Hold(level: 1, by: "lijianguo", note: "市民政局督办：初审通过，已书面通知")])
        run.notes = ["final-evaluation": "出壳", "exit-notice": "出壳通知已送达"]
        let detail = try run.drive(until: shanghaiTime("2027-09-01T09:00"))
        let rows = try run.checkCompleted(detail)
        let step = steps(detail)

        #expect(run.appearedAt["initial-review"] == shanghaiTime("2026-06-01T09:00"), "the first workday after the window")
        #expect(run.escalatedAt["initial-review"] == [shanghaiTime("2026-06-05T18:00")])
        #expect(run.appearedAt["entry-agreement"] == shanghaiTime("2026-06-30T09:00"))
        #expect(run.appearedAt["interim-evaluation"] == shanghaiTime("2026-12-30T09:00"))
        #expect(run.appearedAt["final-evaluation"] == shanghaiTime("2027-05-31T09:00"))
        #expect(run.appearedAt["exit-notice"] == shanghaiTime("2027-06-30T09:00"))
        // The handover deadline counts 15 workdays from the exit notice.
        let noticeDay = try #require(step["exit-notice"]?.doneAt).prefix(10)
        let handoverBy = try calendarAdd(site, String(noticeDay), "15 workdays")
        #expect(step["site-handover"]?.deadline.map(isoInstant) == shanghaiTime("\(handoverBy)T18:00"))
        let handedOver = rows.first { $0.step == "handed-over" }
        #expect(handedOver?.fields["outcome"] == "出壳")
        #expect(handedOver?.fields["org"] == "双河邻里互助社")
        #expect(rows.first { $0.step == "entered" }?.fields["incubation_end"] == "2027-06-30")
        #expect(daemon.stop() == 0, "log: \(daemon.log)")
    }

    // MARK: 四议两公开

    /// 黄桷村 decides a road project at a villagers' meeting on 2026-10-12: the draft goes out by
    /// 09-24 (R−3 falls in 中秋), the 10-day notice is due 09-30 (M−10 falls in National Day) and
    /// is escalated to the town; the decision's publication is escalated up to the city.
    @Test func fourDeliberationsTwoDisclosuresForAVillageProject() throws {
        let site = try TestSite(checkoutWorkflows: ["four-deliberations-two-disclosures.yaml"])
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-09-07T09:00+08:00")
        let cli = EngineCLI(socket: site.socketPath)
        let params = ["unit": "huangjue", "matter": "村道硬化工程", "meeting_day": "2026-10-12", "completion_day": "2026-12-18"]
        let oracle = try plan(site, "four-deliberations-two-disclosures", start: "2026-09-07T09:00", params)
        #expect(oracle.param("review_day") == "2026-09-28")
        #expect(oracle.step("propose")?.users == ["xiaoming"])
        #expect(oracle.step("circulate-draft")?.deadline?.local == "2026-09-24T18:00")
        #expect(oracle.step("meeting-notice")?.deadline?.local == "2026-09-30T18:00")
        #expect(oracle.step("meeting-notice")?.escalations.map { Set($0.to.people.map(\.user)) } == [["yangfan"], ["lijianguo", "zhouyan"]])
        #expect(oracle.step("publish-decision")?.users == ["xiaoming", "duhua"])
        #expect(oracle.step("publish-outcome")?.deadline?.local == "2026-12-28T23:59")

        let id = try cli.start("four-deliberations-two-disclosures", params, as: "tianye")
        let run = WorkflowRun(cli: cli, id: id, plan: oracle, holds: [
            "meeting-notice": Hold(level: 1, by: "yangfan", note: "镇民政办督促，已于09-30张贴会议通知"),
            "publish-decision": Hold(level: 2, by: "zhouyan", note: "市民政局督办后已公开决议"),
        ])
        run.notes = ["decide": "到会村民312人，同意268人，决议通过"]
        run.acknowledger = ["outcome-signoff": "duhua"]
        let detail = try run.drive(until: shanghaiTime("2027-02-01T09:00"))
        let rows = try run.checkCompleted(detail)

        #expect(run.appearedAt["propose"] == shanghaiTime("2026-09-07T09:00"))
        #expect(run.appearedAt["review"] == shanghaiTime("2026-09-28T09:00"))
        #expect(run.escalatedAt["meeting-notice"] == [shanghaiTime("2026-09-30T18:00")])
        #expect(run.appearedAt["decide"] == shanghaiTime("2026-10-12T09:00"))
        #expect(run.appearedAt["publish-decision"] == shanghaiTime("2026-10-12T09:00"), "published immediately after the decision")
        #expect(run.escalatedAt["publish-decision"] == [shanghaiTime("2026-10-13T18:00"), shanghaiTime("2026-10-14T18:00")])
        #expect(rows.filter { $0.step == "publish-decision" && $0.event == "reminder.repeated" }.count >= 2, "repeated every 4 hours")
        #expect(run.appearedAt["publish-outcome"] == shanghaiTime("2026-12-18T09:00"))
        #expect(rows.first { $0.step == "decision-recorded" }?.fields["note"] == "到会村民312人，同意268人，决议通过")
        #expect(rows.first { $0.step == "archived" }?.fields["signed_off_by"] == "duhua")
        #expect(daemon.stop() == 0, "log: \(daemon.log)")
    }

    // MARK: 村（居）务公开

    /// The quarterly trigger of the community variant starts one quarter's disclosures per community on
    /// 10-01 09:00; 西街社区's is driven through the quarterly posting (escalated up to the city)
    /// and three monthly finance postings (month 2's sign-off escalated to the street).
    @Test func villageAffairsDisclosureForOneQuarter() throws {
        let site = try TestSite(checkoutWorkflows: ["community-affairs-disclosure.yaml"])
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-09-30T12:00+08:00")
        let cli = EngineCLI(socket: site.socketPath)
        let units = try communities(site)

        try cli.setClock("2026-10-01T08:59")
        #expect(try cli.instances().isEmpty, "nothing before the quarter starts")
        try cli.advance("1m")
        let started = try cli.instances()
        #expect(started.compactMap(\.unit).sorted() == units.sorted())
        #expect(started.allSatisfy { $0.workflow == "community-affairs-disclosure" && isoInstant($0.startedAt) == shanghaiTime("2026-10-01T09:00") })
        let xijie = try #require(started.first { $0.unit == "xijie" })
        for other in started where other.id != xijie.id {
            #expect(try cli.run(["cancel", "\(other.id)", "--reason", "本测试只推进西街社区"]).status == 0)
        }
        // quarter_start defaults to the occurrence: the first signoffs fall three workdays before 10-15.
        #expect(try cli.show(xijie.id).steps.first { $0.id == "general-signoff" }?.due.map(isoInstant) == shanghaiTime("2026-10-12T09:00"))

        let oracle = try plan(site, "community-affairs-disclosure", start: "2026-10-01T09:00", ["unit": "xijie"])
        #expect(oracle.param("disclosure_day") == "2026-10-15")
        #expect(oracle.step("general-signoff")?.due?.local == "2026-10-12T09:00")
        #expect(oracle.step("general-signoff")?.users == ["songya"])
        #expect(oracle.step("general-post")?.users == ["linfeng"])
        #expect(oracle.step("finance-2-signoff")?.deadline?.local == "2026-11-13T18:00")
        #expect(oracle.step("finance-3-post")?.deadline?.local == "2026-12-31T18:00")

        let run = WorkflowRun(cli: cli, id: xijie.id, plan: oracle, holds: [
            "general-post": Hold(level: 2, by: "zhouyan", note: "市民政局督办后已张贴"),
            "finance-2-signoff": Hold(level: 1, by: "majun", note: "街道民政办督促，监委会已审核签字"),
        ])
        let detail = try run.drive(until: shanghaiTime("2026-12-31T18:00"))
        let rows = try run.checkCompleted(detail)

        #expect(run.appearedAt["general-post"] == shanghaiTime("2026-10-15T09:00"))
        #expect(run.escalatedAt["general-post"] == [shanghaiTime("2026-10-16T09:00"), shanghaiTime("2026-10-19T09:00")])
        #expect(run.escalatedAt["finance-2-signoff"] == [shanghaiTime("2026-11-13T18:00")])
        #expect(run.appearedAt["finance-2-post"] == shanghaiTime("2026-11-16T09:00"), "11-15 is a Sunday")
        #expect(run.appearedAt["finance-3-post"] == shanghaiTime("2026-12-15T09:00"))
        let closed = rows.first { $0.step == "quarter-closed" && $0.event == "step.recorded" }
        #expect(closed?.fields["quarter_start"] == "2026-10-01")
        #expect(rows.first { $0.step == "general-posted" }?.fields["posted_by"] == "zhouyan")
        #expect(isoInstant(detail.endedAt ?? "") < shanghaiTime("2027-01-01T09:00"))
        #expect(daemon.stop() == 0, "log: \(daemon.log)")
    }

    // MARK: 换届选举 → 任前廉政谈话

    /// An election acknowledged promptly, with the results acknowledged as
    /// `--set elected_members=赵敏,孙丽,钱军` on E = 2026-12-20: the acknowledgement itself
    /// starts one pre-appointment talk per elected member, in the same instant, with the
    /// election's unit and N, long before the cycle ends (archive is due by N+30); each talk
    /// runs to its end. The term reminder still starts when the whole cycle completes.
    @Test func announcingTheResultsStartsOnePreAppointmentTalkPerElectedMember() throws {
        let site = try TestSite(checkoutWorkflows: ["community-election-cycle.yaml", "pre-appointment-talk.yaml", "term-renewal-reminder.yaml"])
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-11-01T09:00+08:00")
        let cli = EngineCLI(socket: site.socketPath)
        let params = ["unit": "guqiao-shequ", "election_day": "2026-12-20"]
        let oracle = try plan(site, "community-election-cycle", start: "2026-11-01T09:00", params)
        let id = try cli.start("community-election-cycle", params, as: "zhaomin")
        // The archive is only acknowledged once the city hears of it at its deadline (N+30), so
        // the cycle ends a month after the results, as it can in practice.
        let election = WorkflowRun(cli: cli, id: id, plan: oracle,
                                   holds: ["archive": Hold(level: 1, by: "zhouyan", note: "选举资料已建档（市民政局督办）")])
        election.fields["announce-results"] = ["elected_members=赵敏,孙丽,钱军"]
        var talksSeenWhileRunning = 0
        election.eachTurn = { detail in
            let announced = detail.steps.first { $0.id == "announce-results" }?.state == "done"
            let talks = (try? cli.instances().filter { $0.workflow == "pre-appointment-talk" }.count) ?? -1
            #expect(talks == (announced ? 3 : 0), "the talks start with the announcement, not before")
            if announced { talksSeenWhileRunning += 1 }
        }
        let detail = try election.drive(until: shanghaiTime("2027-02-01T09:00"))
        let rows = try election.checkCompleted(detail)
        let endedAt = try #require(detail.endedAt)
        let announce = try #require(detail.reminders.first { $0.step == "announce-results" })
        #expect(announce.fields == ["elected_members": "赵敏,孙丽,钱军"])
        let announcedAt = try #require(announce.ackedAt)
        #expect(isoInstant(announcedAt) == shanghaiTime("2026-12-20T07:30"), "acknowledged as soon as the vote was")
        #expect(isoInstant(endedAt) > shanghaiTime("2027-01-19T00:00"), "the cycle itself ends a month later, at archive")
        #expect(talksSeenWhileRunning > 0, "the talks ran while the election was still running")

        // Three talks, started by the announcement, with the election's unit and N.
        let talks = try cli.instances().filter { $0.workflow == "pre-appointment-talk" }.sorted { $0.id < $1.id }
        #expect(talks.count == 3)
        var cadres: [String] = []
        for talk in talks {
            let shown = try cli.show(talk.id)
            cadres.append(shown.params["cadre"] ?? "?")
            #expect(shown.unit == "guqiao-shequ" && shown.params["unit"] == "guqiao-shequ")
            #expect(shown.params["result_day"] == "2026-12-20")
            #expect(shown.startedAt == announcedAt)
            #expect(shown.startedBy.contains("#\(id) announce-results"), "\(shown.startedBy)")
        }
        #expect(cadres.sorted() == ["孙丽", "赵敏", "钱军"].sorted())
        let chained = rows.filter { $0.event == "chain.started" && $0.fields["workflow"] == "pre-appointment-talk" }
        #expect(chained.count == 3)
        #expect(chained.allSatisfy { $0.step == "announce-results" && $0.at == announcedAt })
        #expect(Set(chained.compactMap { $0.fields["item"] }) == ["赵敏", "孙丽", "钱军"])
        #expect(Set(chained.compactMap { $0.fields["instance"] }) == Set(talks.map { "\($0.id)" }))
        // And one term reminder (5-year term, docs/procedures.md#representatives-meeting), at the end.
        let reminders = try cli.instances().filter { $0.workflow == "term-renewal-reminder" }
        #expect(reminders.count == 1)
        #expect(try reminders.first.map { try cli.show($0.id).params["last_election_day"] } == "2026-12-20")
        #expect(rows.filter { $0.event == "chain.started" && $0.fields["workflow"] == "term-renewal-reminder" }.map(\.at) == [endedAt])

        // Each talk ran like a manually started one from the announcement: the talk list at
        // once, the scheduling reminder on the first workday after N, in both inboxes, and its
        // escalation only when 3 workdays had passed unacknowledged (it used to start on
        // 2027-01-19 and escalate at once).
        for talk in talks {
            let shown = try cli.show(talk.id)
            let cadre = shown.params["cadre"] ?? "?"
            let talkPlan = try plan(site, "pre-appointment-talk", start: String(announcedAt.prefix(16)),
                                    ["unit": "guqiao-shequ", "cadre": cadre, "result_day": "2026-12-20"])
            #expect(talkPlan.step("schedule-talk")?.due?.local == "2026-12-21T09:00")
            let schedule = try #require(shown.reminders.first { $0.step == "schedule-talk" })
            #expect(isoInstant(schedule.due) == shanghaiTime("2026-12-21T09:00"))
            #expect(schedule.message.contains(cadre))
            for user in ["chenzhi", "liuqiang"] {
                #expect(try cli.inbox(user).contains { $0.id == schedule.id }, "\(cadre)'s talk is in \(user)'s inbox")
            }
            let talkRows = try cli.audit(instance: talk.id)
            #expect(talkRows.first { $0.step == "talk-list" }?.fields["cadre"] == cadre)
            #expect(talkRows.first { $0.step == "talk-list" }.map { isoInstant($0.at) } == isoInstant(announcedAt))
            let firstEscalation = talkRows.first { $0.step == "schedule-talk" && $0.event == "reminder.escalated" }
            #expect(firstEscalation.map { isoInstant($0.at) } == shanghaiTime("2026-12-24T09:00"), "3 workdays after 12-21 09:00")
        }
        #expect(daemon.stop() == 0, "log: \(daemon.log)")
    }
}

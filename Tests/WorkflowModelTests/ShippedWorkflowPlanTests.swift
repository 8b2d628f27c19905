import Foundation
import Testing
@testable import WorkflowModel

// Plans of every shipped workflow (workflows/*.yaml) against the shipped calendar and the example
// org chart: the statutory ([S]) dates for at least two key dates each, one of them making a
// deadline meet the 2026 National Day holiday (10-01..10-07 off; 09-20 Sun and 10-10 Sat are
// make-up workdays), so that previous-workday, next-workday and civil-deadline are exercised.
// The election cycle's voter list and handover for E = 2026-12-20 are in PlanTests.swift.

/// Builds plans of a shipped workflow file, like `ElectionPlanTests.plan` does for the election.
private func shippedPlan(_ workflow: String, _ params: [String: String], start: String = "2025-01-02T09:00") throws -> WorkflowPlan {
    let calendar = try Shipped.calendar()
    let chart = try Shipped.chart()
    let checker = WorkflowChecker(calendars: CalendarLibrary([calendar]), orgChart: chart)
    let definition = try checker.load(path: TestPaths.workflows + "/\(workflow).yaml")
    let instant = LocalDateTime(start)!.instant(in: shanghai)
    return try WorkflowPlanner(calendar: calendar, orgChart: chart, timeZone: shanghai).withShippedSettings
        .plan(definition, params: params, start: instant, now: instant)
}

private func at(_ text: String) -> LocalDateTime { LocalDateTime(text)! }

private extension WorkflowPlan {
    func step(_ id: String) throws -> PlannedStep {
        try #require(steps.first { $0.id == id }, "no step '\(id)' in \(workflowID)")
    }

    func param(_ name: String) -> String? { params.first { $0.name == name }?.value }

    /// Everybody a step or escalation names, as "unit·role: users"; empty when all resolve.
    var unresolved: [String] {
        steps.flatMap { step in
            (step.assignees + step.escalations.map(\.to)).filter { $0.people.isEmpty }.map { "\(step.id): \($0.reference) \($0.problem ?? "")" }
        }
    }
}

private extension PlannedStep {
    var users: [String] { assignees.flatMap { $0.people.map(\.user) } }
}

@Suite struct ShippedWorkflowCoverageTests {
    /// A new workflow file needs a plan test here: this list is the set of shipped files.
    @Test func everyShippedWorkflowHasAPlanTest() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: TestPaths.workflows).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(files == [
            "community-affairs-disclosure.yaml",
            "community-election-cycle.yaml",
            "community-four-deliberations.yaml",
            "community-year-end-review.yaml",
            "dispute-case.yaml",
            "economic-audit-departure.yaml",
            "economic-audit-term.yaml",
            "election-cycle.yaml",
            "four-deliberations-two-disclosures.yaml",
            "pre-appointment-talk.yaml",
            "representatives-meeting.yaml",
            "social-org-incubation.yaml",
            "social-worker-station.yaml",
            "term-renewal-reminder.yaml",
            "village-affairs-disclosure.yaml",
            "voter-list-objection.yaml",
            "year-end-review.yaml",
        ])
    }

    /// Every role reference resolves to somebody in the example chart, for a community and a
    /// village (or a street and a township, or the city) — no plan warnings but the calendar's.
    struct Case: Sendable, CustomTestStringConvertible {
        var workflow: String
        var params: [String: String]
        var units: [String]
        var testDescription: String { workflow }
    }

    static let cases: [Case] = [
        Case(workflow: "election-cycle", params: ["election_day": "2026-12-20"], units: ["huangjue", "shiling", "qingshan"]),
        Case(workflow: "community-election-cycle", params: ["election_day": "2026-12-20"], units: ["guqiao-shequ", "xijie", "dongyuan"]),
        Case(workflow: "economic-audit-departure", params: ["election_day": "2026-12-20"], units: ["huangjue", "shiling", "qingshan"]),
        Case(workflow: "economic-audit-term", params: ["term_start": "2026-12-20"], units: ["huangjue", "qingshan"]),
        Case(workflow: "dispute-case", params: ["subject": "邻里漏水纠纷", "received_day": "2026-09-21"], units: ["guqiao-shequ", "xijie", "huangjue", "qingshan"]),
        Case(workflow: "representatives-meeting", params: ["quarter_start": "2026-10-05"], units: ["huangjue", "shiling", "qingshan"]),
        Case(workflow: "term-renewal-reminder", params: ["last_election_day": "2026-12-20"], units: ["guqiao-shequ", "huangjue", "xijie", "qingshan"]),
        Case(workflow: "pre-appointment-talk", params: ["cadre": "张三", "result_day": "2026-11-15"], units: ["guqiao-shequ", "dongyuan", "huangjue", "qingshan"]),
        Case(workflow: "year-end-review", params: ["meeting_day": "2026-12-20"], units: ["shiling", "qingshan"]),
        Case(workflow: "community-year-end-review", params: ["meeting_day": "2026-12-20"], units: ["guqiao-shequ", "guanghua-dadao", "xijie"]),
        Case(workflow: "four-deliberations-two-disclosures", params: ["matter": "道路硬化", "meeting_day": "2026-11-29", "completion_day": "2026-12-20"], units: ["huangjue", "shiling"]),
        Case(workflow: "community-four-deliberations", params: ["matter": "道路硬化", "meeting_day": "2026-11-29", "completion_day": "2026-12-20"], units: ["guqiao-shequ", "dujiaping"]),
        Case(workflow: "village-affairs-disclosure", params: ["quarter_start": "2026-07-01"], units: ["huangjue", "qingshan"]),
        Case(workflow: "community-affairs-disclosure", params: ["quarter_start": "2026-07-01"], units: ["guqiao-shequ", "dongyuan"]),
        Case(workflow: "social-worker-station", params: ["start_day": "2026-01-01"], units: ["guqiao", "shuanghe", "lushi", "yongxing"]),
        Case(workflow: "social-org-incubation", params: ["call_day": "2025-05-18"], units: ["guqiao", "lushi", "huaying"]),
        Case(workflow: "voter-list-objection", params: ["election": "12", "received_on": "2026-11-30", "objector": "张三"], units: ["huangjue", "guqiao-shequ"]),
    ]

    @Test(arguments: cases)
    func assigneesResolveInTheExampleChart(_ testCase: Case) throws {
        let (workflow, params, units) = (testCase.workflow, testCase.params, testCase.units)
        for unit in units {
            var given = params
            given["unit"] = unit
            let plan = try shippedPlan(workflow, given)
            #expect(plan.unresolved == [], "\(workflow) for \(unit)")
            #expect(plan.warnings.filter { !$0.hasPrefix("calendar ") } == [], "\(workflow) for \(unit)")
            #expect(plan.steps.count >= 2)
        }
    }
}

@Suite struct ElectionCycleShippedPlanTests {
    // E−20 (村组法 art. 14) in the National Day holiday: publish earlier (previous-workday).
    @Test func voterListBeforeNationalDayMovesBack() throws {
        let plan = try shippedPlan("election-cycle", ["unit": "huangjue", "election_day": "2026-10-25"])
        let voterList = try plan.step("publish-voter-list")
        #expect(voterList.deadline?.local == at("2026-09-30T18:00"))
        #expect(voterList.deadline?.movedFrom == date("2026-10-05"))
        // Reminded 3 workdays before E−20 (09-27 is 中秋), escalated on the morning of 09-30.
        #expect(voterList.due.local == at("2026-09-28T09:00"))
        #expect(voterList.escalations.first?.at.local == at("2026-09-30T09:00"))
        #expect(try plan.step("register-voters").deadline?.movedFrom == date("2026-10-04"))
        // Art. 35: the audit is published before the election (E−1 = Saturday → Friday).
        #expect(try plan.step("publish-audit").deadline?.local == at("2026-10-23T18:00"))
        #expect(plan.param("candidate_list_day") == "2026-10-20")
        // Art. 20: handover within 10 days of N = E: 11-04 is a Wednesday.
        #expect(try plan.step("handover").deadline?.local == at("2026-11-04T23:59"))
    }

    @Test func ordinaryDatesStayPut() throws {
        let plan = try shippedPlan("election-cycle", ["unit": "huangjue", "election_day": "2026-11-29"])
        let voterList = try plan.step("publish-voter-list")
        #expect(voterList.deadline?.local == at("2026-11-09T18:00"))
        #expect(voterList.deadline?.movedFrom == nil)
        #expect(voterList.users == ["panyong"])
        #expect(try plan.step("publish-candidate-list").deadline?.local == at("2026-11-24T18:00"))
        #expect(try plan.step("vote").due.local == at("2026-11-29T07:30"))
        #expect(try plan.step("handover").deadline?.local == at("2026-12-09T23:59"))
    }
}

/// The statutory timing of the election cycle (domain/procedures.md §0, §1): every step with a
/// deadline starts escalating no later than that deadline, for any election day and around
/// holidays; forward periods (objections, handover) end by 民法典 art. 203 (civil-deadline),
/// backward latest dates (E−20, E−5) move back (previous-workday) or stay.
@Suite struct ElectionCycleStatutoryTimingTests {
    /// Loads the definition once and plans it for many parameter sets.
    struct Planner {
        let definition: WorkflowDefinition
        let planner: WorkflowPlanner
        let calendar: WorkCalendar

        init() throws {
            calendar = try Shipped.calendar()
            let chart = try Shipped.chart()
            let checker = WorkflowChecker(calendars: CalendarLibrary([calendar]), orgChart: chart)
            definition = try checker.load(path: TestPaths.workflows + "/election-cycle.yaml")
            planner = WorkflowPlanner(calendar: calendar, orgChart: chart, timeZone: shanghai).withShippedSettings
        }

        func plan(_ params: [String: String]) throws -> WorkflowPlan {
            var given = params
            given["unit"] = given["unit"] ?? "huangjue"
            let start = LocalDateTime("2025-01-02T09:00")!.instant(in: shanghai)
            return try planner.plan(definition, params: given, start: start, now: start)
        }
    }

    /// Steps reminded at a fixed time before a latest date L: reminded k workdays before L and
    /// escalated at 09:00 of the last workday before L.
    static let anchoredBeforeALatestDay = ["form-election-committee", "register-voters", "publish-voter-list", "publish-candidate-list"]
    /// Steps with a statutory ([S]) time limit: they must escalate, not only show a deadline.
    static let statutory = ["publish-audit", "register-voters", "publish-voter-list", "close-objections",
                            "publish-candidate-list", "announce-results", "handover"]

    /// The property that would have caught the first review: for every step with a deadline,
    /// the reminder comes before it and the first escalation (and the ack-by time) no later
    /// than it. Returns a description of every violation.
    static func violations(_ plan: WorkflowPlan, _ label: String, calendar: WorkCalendar) -> [String] {
        var problems: [String] = []
        let deadlineSteps = plan.steps.filter { $0.deadline != nil }
        if deadlineSteps.count < 15 { problems.append("\(label): only \(deadlineSteps.count) steps with a deadline") }
        for step in deadlineSteps {
            let deadline = step.deadline!
            let what = "\(label) \(step.id) (deadline \(deadline.local))"
            if step.due.instant > deadline.instant { problems.append("\(what): due \(step.due.local)") }
            if let ackBy = step.ackBy, ackBy.instant > deadline.instant { problems.append("\(what): ack by \(ackBy.local)") }
            // The one allowed exception: a deadline at 23:59 of a day off escalates at 09:00 of the
            // next workday (EscalationTime); the deadline itself stays.
            let endOfADayOff = deadline.local.time == TimeOfDay(hour: 23, minute: 59)! && !deadline.dayKind.isWorkday
            if let first = step.escalations.first, first.at.instant > deadline.instant,
               !(endOfADayOff && first.at.dayKind.isWorkday && first.at.local.time == TimeOfDay(hour: 9, minute: 0)!
                 && first.at.date == calendar.workday(onOrAfter: deadline.date)) {
                problems.append("\(what): first escalation \(first.at.local)")
            }
            if statutory.contains(step.id) && step.escalations.isEmpty { problems.append("\(what): never escalates") }
            // A step that waits for another cannot rely on `within` (its due time is only an
            // estimate): it escalates at its deadline. close-objections is the one exception,
            // with a calendar `within` (2 days) shorter than its civil-deadline period (3 days)
            // counted from the same instant.
            if step.due.isEstimate && step.id != "close-objections" && step.ackBy != nil && step.ackBy?.instant != deadline.instant {
                problems.append("\(what): waits for other steps but is acknowledged by \(step.ackBy!.local), not at its deadline")
            }
        }
        return problems
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var params: [String: String]
        /// Step id → expected deadline ("YYYY-MM-DDTHH:MM"), the date it moved from if any.
        var deadlines: [String: (String, String?)]
        var testDescription: String { params.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
    }

    static let cases: [Case] = [
        // An ordinary December election (the end-to-end test's instance).
        Case(params: ["election_day": "2026-12-20"], deadlines: [
            "publish-audit": ("2026-12-18T18:00", "2026-12-19"),           // art. 35: before E; E−1 a Saturday
            "form-election-committee": ("2026-11-13T18:00", "2026-11-15"), // [T] E−35
            "adopt-election-plan": ("2026-11-25T18:00", nil),              // [T] E−25
            "register-voters": ("2026-11-27T18:00", "2026-11-29"),         // art. 13: before the list
            "publish-voter-list": ("2026-11-30T18:00", nil),               // art. 14: E−20
            "close-objections": ("2026-12-03T23:59", nil),                 // art. 14: P+5 = 11-30, + 3 days
            "nominate-candidates": ("2026-12-11T18:00", nil),
            "vet-candidates": ("2026-12-14T18:00", nil),
            "publish-candidate-list": ("2026-12-15T18:00", nil),           // art. 15, provincial E−5
            "candidates-meet-voters": ("2026-12-19T18:00", nil),
            "announce-results": ("2026-12-20T23:59", nil),                 // art. 15: on the spot, on E
            "handover": ("2026-12-30T23:59", nil),                         // art. 20: N+10
        ]),
        // E−20 = 10-05 in the National Day holiday: the voter list by 09-30; the objection window
        // (published 09-28, the estimate) ends 10-03 → 10-08, decisions by 10-11 (Sun) → 10-12.
        Case(params: ["election_day": "2026-10-25"], deadlines: [
            "publish-audit": ("2026-10-23T18:00", "2026-10-24"),
            "form-election-committee": ("2026-09-20T18:00", nil),          // a make-up Sunday
            "adopt-election-plan": ("2026-09-30T18:00", nil),
            "register-voters": ("2026-09-30T18:00", "2026-10-04"),
            "publish-voter-list": ("2026-09-30T18:00", "2026-10-05"),
            "close-objections": ("2026-10-12T23:59", "2026-10-11"),
            "nominate-candidates": ("2026-10-16T18:00", nil),
            "vet-candidates": ("2026-10-19T18:00", nil),
            "publish-candidate-list": ("2026-10-20T18:00", nil),
            "candidates-meet-voters": ("2026-10-24T18:00", nil),
            "announce-results": ("2026-10-25T23:59", nil),
            "handover": ("2026-11-04T23:59", nil),
        ]),
        Case(params: ["election_day": "2026-11-29", "unit": "huangjue"], deadlines: [
            "publish-audit": ("2026-11-27T18:00", "2026-11-28"),
            "form-election-committee": ("2026-10-23T18:00", "2026-10-25"),
            "adopt-election-plan": ("2026-11-04T18:00", nil),
            "register-voters": ("2026-11-06T18:00", "2026-11-08"),
            "publish-voter-list": ("2026-11-09T18:00", nil),
            "close-objections": ("2026-11-12T23:59", nil),                 // published 11-04: 11-09, + 3 days
            "publish-candidate-list": ("2026-11-24T18:00", nil),
            "announce-results": ("2026-11-29T23:59", nil),
            "handover": ("2026-12-09T23:59", nil),
        ]),
        // N = E = 09-24 (§0): the handover's 10th day, 10-04, is in the National Day holiday.
        Case(params: ["election_day": "2026-09-24", "unit": "huangjue"], deadlines: [
            "publish-voter-list": ("2026-09-04T18:00", nil),
            "publish-candidate-list": ("2026-09-18T18:00", nil),           // C = E−5 = 09-19, a Saturday: the Friday before
            "announce-results": ("2026-09-24T23:59", nil),
            "handover": ("2026-10-08T23:59", "2026-10-04"),
        ]),
        // A follow-up vote: E = 09-20, N = 09-24 — the same handover deadline.
        Case(params: ["election_day": "2026-09-20", "new_committee_day": "2026-09-24"], deadlines: [
            "publish-voter-list": ("2026-08-31T18:00", nil),
            "announce-results": ("2026-09-20T23:59", nil),
            "handover": ("2026-10-08T23:59", "2026-10-04"),
        ]),
    ]

    @Test(arguments: cases)
    func statutoryDeadlinesAndFirstEscalations(_ testCase: Case) throws {
        let plan = try Planner().plan(testCase.params)
        for (id, (expected, movedFrom)) in testCase.deadlines.sorted(by: { $0.key < $1.key }) {
            let step = try #require(plan.steps.first { $0.id == id }, "no step \(id)")
            #expect(step.deadline?.local == LocalDateTime(expected), "\(id)")
            #expect(step.deadline?.movedFrom == movedFrom.map(date), "\(id) moved from")
        }
        #expect(Self.violations(plan, testCase.testDescription, calendar: try Shipped.calendar()) == [])
        // The vote is on E; results follow it on E.
        let electionDay = date(testCase.params["election_day"]!)
        let vote = try #require(plan.steps.first { $0.id == "vote" })
        #expect(vote.due.local == LocalDateTime(date: electionDay, time: TimeOfDay(hour: 7, minute: 30)!))
        #expect(plan.steps.first { $0.id == "announce-results" }?.due.date == electionDay)
        // Steps anchored before a latest day escalate at 09:00 of a workday, no later than it.
        for id in Self.anchoredBeforeALatestDay {
            let step = try #require(plan.steps.first { $0.id == id })
            let first = try #require(step.escalations.first, "\(id) escalates")
            #expect(first.at.local.time == TimeOfDay(hour: 9, minute: 0)!, "\(id)")
            #expect(first.at.dayKind.isWorkday, "\(id) escalates on a workday: \(first.at.local)")
            #expect(first.at.date <= step.deadline!.date, "\(id)")
            #expect(!step.due.isEstimate && step.due.date < first.at.date, "\(id) is reminded on an earlier day")
        }
    }

    /// The same property for every election day of 2026 (the calendar's own years), with the
    /// provincial range for the candidate list (E−3, E−7) and a follow-up vote one week later.
    @Test func everyElectionDayOf2026EscalatesBeforeEveryDeadline() throws {
        let planner = try Planner()
        var problems: [String] = []
        var day = date("2026-01-01")
        while day <= date("2026-12-31") {
            let variants: [[String: String]] = [
                [:],
                ["candidate_list_day": day.adding(days: -3).description],
                ["candidate_list_day": day.adding(days: -7).description],
                ["new_committee_day": day.adding(days: 7).description],
            ]
            for variant in variants {
                var params = variant
                params["election_day"] = day.description
                let plan = try planner.plan(params)
                problems += Self.violations(plan, params.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "), calendar: planner.calendar)
                // Forward periods end on a workday (or the make-up days that count as ones).
                for id in ["close-objections", "handover"] {
                    if let deadline = plan.steps.first(where: { $0.id == id })?.deadline, !deadline.provisional,
                       !planner.calendar.isWorkday(deadline.date) {
                        problems.append("\(day) \(id): forward deadline on a day off, \(deadline.local)")
                    }
                }
            }
            day = day.adding(days: 1)
        }
        #expect(problems == [])
    }

    /// The results are due on E by 23:59. When E is a Sunday the escalation goes at 09:00 on
    /// Monday, not at midnight on the day off; the deadline stays 23:59 on E. On a workday E it
    /// escalates at the deadline as before.
    @Test func anEscalationAtTheEndOfADayOffGoesAtNineOnTheNextWorkday() throws {
        let sunday = try Planner().plan(["election_day": "2026-12-20"]).steps.first { $0.id == "announce-results" }
        #expect(sunday?.deadline?.local == at("2026-12-20T23:59"))
        #expect(sunday?.ackBy?.local == at("2026-12-20T23:59"))
        #expect(sunday?.escalations.map(\.at.local) == [at("2026-12-21T09:00")])
        // Before National Day's last day off (10-07) → 10-08 09:00.
        let holiday = try Planner().plan(["election_day": "2026-10-07"]).steps.first { $0.id == "announce-results" }
        #expect(holiday?.escalations.map(\.at.local) == [at("2026-10-08T09:00")])
        let thursday = try Planner().plan(["election_day": "2026-12-17"]).steps.first { $0.id == "announce-results" }
        #expect(thursday?.escalations.map(\.at.local) == [at("2026-12-17T23:59")])
    }

    /// The objection window and the decision time are both forward periods (民法典 art. 203).
    @Test func objectionPeriodsAreCivilDeadlines() throws {
        let plan = try Planner().plan(["election_day": "2026-10-25"])
        let window = try #require(plan.steps.first { $0.id == "objection-period-ends" })
        #expect(window.due.local == at("2026-10-08T23:59"))
        #expect(window.due.movedFrom == date("2026-10-03"))
        #expect(window.due.formula == "steps.publish-voter-list.fields.posted_on + 5 days civil-deadline")
        let decide = try #require(plan.steps.first { $0.id == "close-objections" })
        #expect(decide.after == ["objection-period-ends"])
        #expect(decide.deadline?.formula == "steps.objection-period-ends.done + 3 days civil-deadline")
        #expect(decide.escalations.map(\.at.local) == [at("2026-10-10T23:59")])   // the day before the last day
        // Backward latest dates never use civil-deadline.
        for step in plan.steps {
            for formula in [step.due.formula, step.deadline?.formula].compactMap({ $0 }) where formula.contains(" - ") {
                #expect(!formula.contains("civil-deadline"), "\(step.id): \(formula)")
            }
        }
    }
}

@Suite struct PreAppointmentTalkPlanTests {
    @Test func talkWithinAMonthOfTheResult() throws {
        let plan = try shippedPlan("pre-appointment-talk", ["unit": "guqiao-shequ", "cadre": "张三", "result_day": "2026-11-15"])
        #expect(plan.param("talk_by") == "2026-12-15")
        let schedule = try plan.step("schedule-talk")
        #expect(schedule.due.local == at("2026-11-16T09:00"))   // the first workday after N (a Sunday)
        #expect(schedule.users == ["chenzhi", "liuqiang"])
        let talk = try plan.step("talk")
        #expect(talk.deadline?.local == at("2026-12-15T18:00"))
        #expect(talk.deadline?.movedFrom == nil)
        #expect(talk.ackBy == talk.deadline)                    // escalation (补谈) starts at the deadline
        #expect(talk.users == ["chenzhi"])
        // The make-up path: the township organisation member, then the city discipline commission.
        #expect(talk.escalations.map(\.to.reference) == ["organization@township", "discipline@county"])
        #expect(talk.escalations.map(\.at.local) == [at("2026-12-15T18:00"), at("2026-12-17T18:00")])
        #expect(talk.escalations.map { $0.to.people.map(\.user) } == [["liuqiang"], ["qiandong"]])
    }

    @Test func talkDeadlineInNationalDayMovesToTheNextWorkday() throws {
        let plan = try shippedPlan("pre-appointment-talk", ["unit": "huangjue", "cadre": "李四", "result_day": "2026-09-04"])
        let talk = try plan.step("talk")
        #expect(talk.deadline?.local == at("2026-10-08T18:00"))
        #expect(talk.deadline?.movedFrom == date("2026-10-04"))
        #expect(talk.deadline?.formula == "talk_by at 18:00 civil-deadline")
        // Level 2 comes two workdays later: 10-09, then 10-10 (a make-up Saturday).
        #expect(talk.escalations.map(\.at.local) == [at("2026-10-08T18:00"), at("2026-10-10T18:00")])
        #expect(talk.escalations.map(\.to.unitName) == ["禄市镇", "华蓥市"])
        // A talk_by on the make-up Saturday stays there.
        let makeUp = try shippedPlan("pre-appointment-talk", ["unit": "huangjue", "cadre": "李四", "result_day": "2026-09-04", "talk_by": "2026-10-10"])
        #expect(try makeUp.step("talk").deadline?.local == at("2026-10-10T18:00"))
        #expect(try makeUp.step("talk").deadline?.movedFrom == nil)
    }

    @Test func inOfficeOnlyAfterThePledge() throws {
        let plan = try shippedPlan("pre-appointment-talk", ["unit": "xijie", "cadre": "王五", "result_day": "2026-11-15"])
        let inOffice = try plan.step("in-office")
        #expect(inOffice.after == ["pledge"])
        #expect(inOffice.uses == "record")
        let pledge = try plan.step("pledge")
        #expect(pledge.after == ["talk"])
        #expect(pledge.uses == "remind")
    }
}

@Suite struct YearEndReviewPlanTests {
    @Test func noticeTenDaysBeforeTheMeeting() throws {
        let plan = try shippedPlan("community-year-end-review", ["unit": "guqiao-shequ", "meeting_day": "2026-12-20"])
        let notice = try plan.step("notice")
        #expect(notice.deadline?.local == at("2026-12-10T18:00"))   // M−10,村组法 art. 21
        #expect(notice.deadline?.movedFrom == nil)
        #expect(notice.due.local == at("2026-12-07T09:00"))
        #expect(notice.ackBy == notice.deadline)
        #expect(try plan.step("written-reports").deadline?.local == at("2026-12-17T18:00"))
        #expect(try plan.step("review-meeting").due.local == at("2026-12-20T09:00"))
        let rating = try plan.step("democratic-rating")
        #expect(rating.users == ["fengtao"])                         // chaired by the supervision committee, art. 33
        #expect(rating.due.local == at("2026-12-20T11:00"))
        #expect(try plan.step("publish-results").deadline?.local == at("2026-12-25T23:59"))
    }

    @Test func noticeBeforeNationalDayMovesBack() throws {
        let plan = try shippedPlan("year-end-review", ["unit": "shiling", "meeting_day": "2026-10-12"])
        let notice = try plan.step("notice")
        #expect(notice.deadline?.local == at("2026-09-30T18:00"))
        #expect(notice.deadline?.movedFrom == date("2026-10-02"))
        #expect(notice.users == ["jiangtao", "yuqing", "tianye"])
        #expect(try plan.step("democratic-rating").users == ["fuxia"])   // not the director (item 9)
    }

    @Test func resultsDueInNationalDayMoveForward() throws {
        let plan = try shippedPlan("year-end-review", ["unit": "qingshan", "meeting_day": "2026-09-28"])
        #expect(try plan.step("notice").deadline?.local == at("2026-09-18T18:00"))
        let publish = try plan.step("publish-results")
        #expect(publish.deadline?.local == at("2026-10-08T23:59"))
        #expect(publish.deadline?.movedFrom == date("2026-10-03"))
    }
}

@Suite struct FourDeliberationsPlanTests {
    @Test func draftAndNoticeLeadTimes() throws {
        let plan = try shippedPlan("community-four-deliberations", ["unit": "guqiao-shequ", "matter": "集体资产处置", "meeting_day": "2026-12-20"])
        #expect(plan.param("review_day") == "2026-12-06")
        #expect(try plan.step("circulate-draft").deadline?.local == at("2026-12-03T18:00"))   // R−3 [T]
        #expect(try plan.step("review").due.local == at("2026-12-06T09:00"))
        let notice = try plan.step("meeting-notice")
        #expect(notice.deadline?.local == at("2026-12-10T18:00"))                             // M−10 [S] art. 21
        #expect(notice.deadline?.movedFrom == nil)
        #expect(try plan.step("decide").due.local == at("2026-12-20T09:00"))
        let publish = try plan.step("publish-decision")                                       // art. 30: at once
        #expect(publish.deadline?.local == at("2026-12-21T18:00"))
        #expect(publish.after == ["decide"])
        #expect(publish.users == ["zhaomin", "fengtao"])
    }

    @Test func aroundNationalDay() throws {
        // M = 09-30: M−10 is the make-up Sunday 09-20, a workday; the decision is published on
        // the first workday after the holiday; R−3 = 09-13 is a Sunday.
        let plan = try shippedPlan("four-deliberations-two-disclosures", ["unit": "huangjue", "matter": "修建村道", "meeting_day": "2026-09-30"])
        let notice = try plan.step("meeting-notice")
        #expect(notice.deadline?.local == at("2026-09-20T18:00"))
        #expect(notice.deadline?.movedFrom == nil)
        #expect(notice.deadline?.dayKind == .makeUpWorkday(holiday: "国庆节"))
        #expect(try plan.step("publish-decision").deadline?.local == at("2026-10-08T18:00"))
        let draft = try plan.step("circulate-draft")
        #expect(draft.deadline?.local == at("2026-09-11T18:00"))
        #expect(draft.deadline?.movedFrom == date("2026-09-13"))

        // M = 10-12: M−10 = 10-02 lies in the holiday: notify by 09-30. An outcome due 10-04
        // (completion 09-24 + 10 days) moves to 10-08 (民法典 art. 203).
        let later = try shippedPlan("four-deliberations-two-disclosures", ["unit": "huangjue", "matter": "修建村道", "meeting_day": "2026-10-12", "completion_day": "2026-09-24"])
        #expect(try later.step("meeting-notice").deadline?.local == at("2026-09-30T18:00"))
        #expect(try later.step("meeting-notice").deadline?.movedFrom == date("2026-10-02"))
        let outcome = try later.step("publish-outcome")
        #expect(outcome.deadline?.local == at("2026-10-08T23:59"))
        #expect(outcome.deadline?.movedFrom == date("2026-10-04"))
    }
}

@Suite struct VillageAffairsDisclosurePlanTests {
    @Test func thirdQuarter() throws {
        let plan = try shippedPlan("village-affairs-disclosure", ["unit": "qingshan", "quarter_start": "2026-07-01"])
        #expect(plan.param("disclosure_day") == "2026-07-15")
        let signoff = try plan.step("general-signoff")
        #expect(signoff.users == ["yaoping"])
        #expect(signoff.due.local == at("2026-07-10T09:00"))
        #expect(signoff.deadline?.local == at("2026-07-14T18:00"))
        let post = try plan.step("general-post")
        #expect(post.after == ["general-signoff"])
        #expect(post.due.local == at("2026-07-15T09:00"))
        #expect(post.deadline?.local == at("2026-09-30T18:00"))     // within the quarter, art. 30
        #expect(try plan.step("finance-1-post").deadline?.local == at("2026-07-31T18:00"))
        let august = try plan.step("finance-2-post")                  // 08-15 is a Saturday
        #expect(august.due.local == at("2026-08-17T09:00"))
        #expect(august.due.movedFrom == date("2026-08-15"))
        #expect(august.deadline?.local == at("2026-08-31T18:00"))
        #expect(try plan.step("finance-3-post").due.local == at("2026-09-15T09:00"))
    }

    @Test func fourthQuarterWithDisclosureOnTheFirst() throws {
        // A locality whose fixed disclosure day is the 1st: 10-01 is National Day.
        let plan = try shippedPlan("community-affairs-disclosure", ["unit": "guqiao-shequ", "quarter_start": "2026-10-01", "disclosure_day": "2026-10-01"])
        let post = try plan.step("general-post")
        #expect(post.due.local == at("2026-10-08T09:00"))
        #expect(post.due.movedFrom == date("2026-10-01"))
        #expect(post.deadline?.local == at("2026-12-31T18:00"))
        let signoff = try plan.step("general-signoff")
        #expect(signoff.due.local == at("2026-09-28T09:00"))           // 3 workdays before 10-01
        #expect(signoff.deadline?.local == at("2026-09-30T18:00"))
        #expect(signoff.users == ["fengtao"])
        let october = try plan.step("finance-1-post")
        #expect(october.due.local == at("2026-10-08T09:00"))
        #expect(october.deadline?.local == at("2026-10-30T18:00"))     // 10-31 is a Saturday
        #expect(october.deadline?.movedFrom == date("2026-10-31"))
        #expect(try plan.step("finance-2-post").due.local == at("2026-11-02T09:00"))
        #expect(try plan.step("finance-3-post").due.local == at("2026-12-01T09:00"))
        // The default day for the same quarter is the 15th.
        let byDefault = try shippedPlan("community-affairs-disclosure", ["unit": "guqiao-shequ", "quarter_start": "2026-10-01"])
        #expect(try byDefault.step("general-post").due.local == at("2026-10-15T09:00"))
    }
}

@Suite struct SocialWorkerStationPlanTests {
    @Test func calendarYear2026() throws {
        let plan = try shippedPlan("social-worker-station", ["unit": "guqiao", "start_day": "2026-01-01"])
        let annualPlan = try plan.step("annual-plan")
        #expect(annualPlan.due.local == at("2026-01-04T09:00"))        // 01-04 is a make-up Sunday
        #expect(annualPlan.deadline?.local == at("2026-03-31T18:00"))
        #expect(annualPlan.users == ["lijianguo", "zhouyan"])
        #expect(plan.param("opening_day") == "2026-07-01")
        #expect(try plan.step("procurement").deadline?.local == at("2026-06-01T18:00"))
        #expect(try plan.step("review-q1").due.local == at("2026-04-01T09:00"))
        #expect(try plan.step("review-q2").due.local == at("2026-07-01T09:00"))
        let q3 = try plan.step("review-q3")                             // National Day
        #expect(q3.due.local == at("2026-10-08T09:00"))
        #expect(q3.due.movedFrom == date("2026-10-01"))
        #expect(q3.ackBy?.local == at("2026-10-14T09:00"))             // 10-09, 10-10, 10-12, 10-13, 10-14
        #expect(q3.users == ["wanghong"])
        #expect(try plan.step("review-q4").due.provisional)              // 2027 is not in the calendar
        #expect(try plan.step("year-end-evaluation").deadline?.local == at("2026-12-31T18:00"))
    }

    @Test func yearFromMarch() throws {
        let plan = try shippedPlan("social-worker-station", ["unit": "lushi", "start_day": "2026-03-01"])
        #expect(try plan.step("annual-plan").deadline?.local == at("2026-05-29T18:00"))   // 05-31 is a Sunday
        #expect(try plan.step("procurement").deadline?.local == at("2026-07-31T18:00"))   // 08-01 is a Saturday
        #expect(try plan.step("review-q1").due.local == at("2026-06-01T09:00"))
        #expect(try plan.step("review-q3").due.local == at("2026-12-01T09:00"))
        #expect(try plan.step("opening").users == ["yangfan"])
        #expect(try plan.step("opening").escalations.first?.to.people.map(\.user) == ["lijianguo", "zhouyan"], "the county hears of it only when it stalls")
    }
}

@Suite struct SocialOrgIncubationPlanTests {
    @Test func incubationEndingBeforeNationalDay() throws {
        let plan = try shippedPlan("social-org-incubation", ["unit": "lushi", "org": "夕阳红志愿服务队", "call_day": "2025-08-18"])
        #expect(plan.param("apply_until") == "2025-08-31")
        #expect(plan.param("entry_day") == "2025-09-30")
        #expect(plan.param("incubation_end") == "2026-09-30")           // entry + 12 months
        #expect(try plan.step("initial-review").deadline?.local == at("2025-09-05T18:00"))
        let handover = try plan.step("site-handover")
        // 15 workdays after the exit notice of 09-30: 10-08 … 10-27 (10-10 is a make-up Saturday).
        #expect(handover.deadline?.local == at("2026-10-27T18:00"))
        #expect(handover.deadline?.isEstimate == true)
        #expect(try plan.step("exit-notice").ackBy?.local == at("2026-10-08T09:00"))
    }

    @Test func windowEndingInTheDragonBoatHoliday() throws {
        let plan = try shippedPlan("social-org-incubation", ["unit": "huaying", "call_day": "2025-05-18"])
        #expect(plan.param("apply_until") == "2025-05-31")               // Hengyang's 14-day window
        // Longhua: 5 workdays; 05-31..06-02 is 端午: 06-03, 06-04, 06-05, 06-06, 06-09.
        #expect(try plan.step("initial-review").deadline?.local == at("2025-06-09T18:00"))
        #expect(try plan.step("site-handover").deadline?.local == at("2026-07-21T18:00"))
        // A longer incubation is a parameter.
        let longer = try shippedPlan("social-org-incubation", ["unit": "huaying", "call_day": "2025-05-18", "incubation_end": "2026-09-18"])
        #expect(try longer.step("exit-notice").due.local == at("2026-09-18T09:00"))
        #expect(try longer.step("site-handover").deadline?.local == at("2026-10-15T18:00"))
    }
}

import Foundation
import Testing
@testable import WorkflowModel

// The workflows as a township civil-affairs officer reads them (docs/procedures.md): the right
// law for the unit's kind, the right recipients, words that say what the law says, and the
// statutory processes the shipped set used to lack. Each test failed on the workflows before
// this change.

private func load(_ workflow: String) throws -> (WorkflowDefinition, WorkflowPlanner) {
    let calendar = try Shipped.calendar()
    let chart = try Shipped.chart()
    let checker = WorkflowChecker(calendars: CalendarLibrary([calendar]), orgChart: chart)
    let definition = try checker.load(path: TestPaths.workflows + "/\(workflow).yaml")
    return (definition, WorkflowPlanner(calendar: calendar, orgChart: chart, timeZone: shanghai).withShippedSettings)
}

private func plan(_ workflow: String, _ params: [String: String], start: String = "2025-01-02T09:00") throws -> WorkflowPlan {
    let (definition, planner) = try load(workflow)
    let instant = LocalDateTime(start)!.instant(in: shanghai)
    return try planner.plan(definition, params: params, start: instant, now: instant)
}

private func at(_ text: String) -> LocalDateTime { LocalDateTime(text)! }

private extension WorkflowPlan {
    func step(_ id: String) throws -> PlannedStep {
        try #require(steps.first { $0.id == id }, "no step '\(id)' in \(workflowID)")
    }
}

private extension PlannedStep {
    var users: [String] { assignees.flatMap { $0.people.map(\.user) } }
    var escalatedTo: [[String]] { escalations.map { $0.to.people.map(\.user) } }
}

/// Every shipped workflow file, loaded.
private func shippedDefinitions() throws -> [WorkflowDefinition] {
    try FileManager.default.contentsOfDirectory(atPath: TestPaths.workflows).filter { $0.hasSuffix(".yaml") }.sorted()
        .map { try load(String($0.dropLast(5))).0 }
}

/// The `message:` (and `text:`) of every step, with its step id.
private func messages(_ definition: WorkflowDefinition) -> [(step: String, text: String)] {
    definition.steps.flatMap { step in
        ["message", "text"].compactMap { key in step.with?[key]?.string.map { (step.id.value, $0) } }
    }
}

@Suite struct CommunityVariantTests {
    /// Item 3: a residents' committee no longer runs under the village law.
    @Test func theVillageElectionRefusesACommunityAndTheCommunityVariantTakesIt() throws {
        #expect(throws: PlanError.self) { try plan("election-cycle", ["unit": "guqiao-shequ", "election_day": "2026-12-20"]) }
        #expect(throws: PlanError.self) { try plan("community-election-cycle", ["unit": "huangjue", "election_day": "2026-12-20"]) }
        let community = try plan("community-election-cycle", ["unit": "guqiao-shequ", "election_day": "2026-12-20"])
        #expect(try community.step("publish-voter-list").deadline?.local == at("2026-11-30T18:00"))
        #expect(try community.step("handover").deadline?.local == at("2026-12-30T23:59"))
        #expect(!community.steps.contains { $0.id == "publish-audit" })   // no statutory audit for 居委会
    }

    /// Item 3: 村/居 wording follows the kind: no "村（居）" in any message, no village terms in
    /// a community file, no residents' terms in a village file.
    @Test func wordingFollowsTheUnitKind() throws {
        for definition in try shippedDefinitions() {
            let kinds = Set(definition.param("unit")?.kinds ?? [])
            for (step, text) in messages(definition) {
                #expect(!text.contains("村（居）"), "\(definition.id.value) \(step): \(text)")
                if kinds == [.community] {
                    for word in ["村民", "村务", "本村", "村组法", "村民委员会组织法"] {
                        #expect(!text.contains(word), "\(definition.id.value) \(step) says \(word): \(text)")
                    }
                }
                if kinds == [.village] {
                    for word in ["居民", "居务", "社区"] {
                        #expect(!text.contains(word), "\(definition.id.value) \(step) says \(word): \(text)")
                    }
                }
            }
        }
    }

    /// Item 3: every workflow for committees of both kinds exists in both variants.
    @Test func eachVillageProcessHasACommunityVariant() throws {
        let ids = Set(try shippedDefinitions().map(\.id.value))
        for (village, community) in [("election-cycle", "community-election-cycle"), ("year-end-review", "community-year-end-review"),
                                     ("four-deliberations-two-disclosures", "community-four-deliberations"),
                                     ("village-affairs-disclosure", "community-affairs-disclosure")] {
            #expect(ids.contains(village) && ids.contains(community))
            #expect(try load(village).0.param("unit")?.kinds == [.village])
            #expect(try load(community).0.param("unit")?.kinds == [.community])
        }
        #expect(try load("community-year-end-review").0.trigger?.unitKinds == [.community])
        #expect(try load("year-end-review").0.trigger?.unitKinds == [.village])
    }
}

@Suite struct LawReferenceTests {
    /// Item 5: no message shows an article number of the organic laws (the 2025 amendment
    /// renumbers them, and the new numbers are not verified); the law and its text's year are named.
    @Test func noMessageCitesAnArticleNumberOfTheOrganicLaws() throws {
        let number = try Regex("第[0-9一二三四五六七八九十百]+条")
        for definition in try shippedDefinitions() {
            for (step, text) in messages(definition) where text.contains(number) {
                // The one verified, unchanged number: 人民调解法 (2010) art. 33.
                #expect(text.contains("《人民调解法》第三十三条（2010年）"), "\(definition.id.value) \(step): \(text)")
            }
        }
        let voterList = try #require(try load("election-cycle").0.step("publish-voter-list")?.with?["message"]?.string)
        #expect(voterList.contains("《村民委员会组织法》（2025年修正）"))
    }

    /// Item 1 (docs): every workflow cites docs/procedures.md, and every anchor it names exists.
    @Test func everyWorkflowCitesAnExistingSectionOfProcedures() throws {
        let procedures = try String(contentsOfFile: TestPaths.packageRoot + "/docs/procedures.md", encoding: .utf8)
        let anchor = try Regex("procedures\\.md#([a-z-]+)")
        for name in try FileManager.default.contentsOfDirectory(atPath: TestPaths.workflows).filter({ $0.hasSuffix(".yaml") }) {
            let text = try String(contentsOfFile: TestPaths.workflows + "/" + name, encoding: .utf8)
            #expect(!text.contains("domain/procedures"), "\(name)")
            let cited = text.matches(of: anchor).map { String($0.output[1].substring ?? "") }
            #expect(!cited.isEmpty, "\(name) cites no section of docs/procedures.md")
            for id in cited {
                #expect(procedures.contains("<a id=\"\(id)\"></a>"), "\(name) cites #\(id), which docs/procedures.md lacks")
            }
        }
    }
}

@Suite struct RecipientTests {
    /// Item 6: the departure audit goes to the township 农经站, escalated to the county's 经管 section.
    @Test func auditGoesToTheRuralEconomyStation() throws {
        let plan = try plan("election-cycle", ["unit": "huangjue", "election_day": "2026-12-20"])
        let audit = try plan.step("publish-audit")
        #expect(audit.users == ["baoxin", "yangfan"])
        #expect(audit.escalatedTo == [["yanjing"]])
    }

    /// Item 6: 资格联审 is led by the township Party committee with 纪委, 公安 and 司法, and goes
    /// up to the city's organisation department.
    @Test func vettingIsLedByThePartyCommitteeWithPoliceAndJustice() throws {
        let plan = try plan("election-cycle", ["unit": "huangjue", "election_day": "2026-12-20"])
        let vet = try plan.step("vet-candidates")
        #expect(vet.users == ["tianye", "dengchao", "zhanglin", "liyun"])
        #expect(vet.escalatedTo == [["kongwei"]])
    }

    /// Item 6: the township hears on election day when nobody confirms the vote.
    @Test func voteEscalatesOnElectionDay() throws {
        let plan = try plan("election-cycle", ["unit": "huangjue", "election_day": "2026-12-20"])
        let vote = try plan.step("vote")
        #expect(vote.escalations.first?.at.local == at("2026-12-20T17:30"))
        #expect(vote.escalatedTo.first == ["yangfan"])
    }

    /// Item 6: 述职评议 escalates 乡镇党委 → 市委组织部, never to the civil-affairs bureau.
    @Test func yearEndReviewEscalatesToTheOrganisationDepartment() throws {
        for (workflow, unit) in [("year-end-review", "huangjue"), ("community-year-end-review", "guqiao-shequ")] {
            let plan = try plan(workflow, ["unit": unit, "meeting_day": "2026-12-20"])
            let everyone = Set(plan.steps.flatMap { $0.escalatedTo.flatMap { $0 } })
            #expect(everyone.contains("kongwei"), "\(workflow)")
            #expect(!everyone.contains("lijianguo") && !everyone.contains("zhouyan"), "\(workflow): \(everyone)")
        }
    }
}

@Suite struct TextAndTerminologyTests {
    private func message(_ workflow: String, _ step: String) throws -> String {
        try #require(try load(workflow).0.step(step)?.with?["message"]?.string)
    }

    /// Item 8: the exact statutory wording, the township named, one 民政局 form.
    @Test func textsSayWhatTheLawSays() throws {
        let supervision = try message("election-cycle", "elect-supervision-committee")
        #expect(supervision.contains("推选村务监督委员会"))
        #expect(supervision.contains("村民委员会成员及其近亲属不得担任村务监督委员会成员"))
        #expect(try message("election-cycle", "vote").contains("登记参加选举的村民过半数投票，选举有效"))
        #expect(try message("community-election-cycle", "elect-supervision-committee").contains("居民委员会成员及其近亲属不得担任居务监督委员会成员"))
        let committee = try message("election-cycle", "form-election-committee")
        #expect(committee.contains("报{{unit.parent.name}}备案"))
        #expect(!committee.contains("所属乡镇"))
        for step in try load("social-worker-station").0.steps {
            #expect(step.with?["message"]?.string?.contains("报市民政局") != true, "\(step.id.value)")
        }
        // 异议 for the voter list throughout (the law's word), never 申诉.
        for (_, text) in messages(try load("election-cycle").0) { #expect(!text.contains("申诉")) }
    }

    /// Item 8: unit.parent.name is a known placeholder and names the township.
    @Test func parentNameIsAPlaceholderOfTheModel() throws {
        #expect(try Template.reference("unit.parent.name") == .param("unit", attribute: "parent.name"))
        let chart = try Shipped.chart()
        let village = try #require(chart.units["huangjue"])
        #expect(chart.value(ofAttribute: "parent.name", for: village) == "禄市镇")
        #expect(chart.value(ofAttribute: "parent.id", for: village) == "lushi")
        #expect(chart.value(ofAttribute: "parent.name", for: try #require(chart.units["huaying"])) == nil)
    }

    /// Item 4 (text side): a message states the same date its step's deadline enforces, as
    /// "最迟于X（含当日）": the placeholder is the deadline's own formula without its time of day.
    @Test(arguments: ["form-election-committee", "adopt-election-plan", "register-voters", "publish-voter-list",
                      "nominate-candidates", "vet-candidates", "handover", "publish-audit"])
    func messageDateIsTheDeadlineDate(step id: String) throws {
        let step = try #require(try load("election-cycle").0.step(id))
        let time = try Regex(" at [0-9]{2}:[0-9]{2}")
        let formula = try #require(step.deadline).value.description.replacing(time, with: "")
        let text = try message("election-cycle", id)
        let stated = try Template.placeholders(in: text).compactMap { placeholder -> String? in
            guard case let .time(expression) = try? Template.reference(placeholder.text) else { return nil }
            return expression.description.replacing(time, with: "")
        }
        #expect(stated.contains(formula), "\(id): the message states \(stated), the deadline is \(formula)")
        #expect(text.contains("最迟于") && text.contains("（含当日）"), "\(id): \(text)")
    }
}

/// Items 13–15: the statutory processes that had no workflow, each planned on two dates
/// (docs/procedures.md#economic-audit, #disputes, #representatives-meeting).
@Suite struct NewProcessPlanTests {
    /// 离任审计: results before E (E−1, previous-workday); fieldwork by E−35; list by E−60.
    @Test func departureAuditCountsBackFromTheElection() throws {
        let december = try plan("economic-audit-departure", ["unit": "huangjue", "election_day": "2026-12-20"])
        #expect(try december.step("major-matters").deadline?.local == at("2026-10-21T18:00"))
        #expect(try december.step("major-matters").due.local == at("2026-10-10T09:00"))       // make-up Saturday
        #expect(try december.step("fieldwork").deadline?.local == at("2026-11-13T18:00"))      // 11-15 is a Sunday
        #expect(try december.step("publish-results").deadline?.local == at("2026-12-18T18:00"))
        #expect(try december.step("publish-results").deadline?.movedFrom == date("2026-12-19"))
        #expect(try december.step("fieldwork").users == ["baoxin"])
        #expect(try december.step("fieldwork").escalatedTo == [["yanjing"]])

        // E = 2026-11-08: E−35 = 10-04 lies in the National Day holiday → 09-30.
        let november = try plan("economic-audit-departure", ["unit": "qingshan", "election_day": "2026-11-08"])
        #expect(try november.step("major-matters").deadline?.local == at("2026-09-09T18:00"))
        #expect(try november.step("fieldwork").deadline?.local == at("2026-09-30T18:00"))
        #expect(try november.step("fieldwork").deadline?.movedFrom == date("2026-10-04"))
        #expect(try november.step("report").deadline?.local == at("2026-10-09T18:00"))
        #expect(try november.step("publish-results").deadline?.local == at("2026-11-06T18:00"))
        #expect(try november.step("fieldwork").users == ["fanhua"])
    }

    /// 任期审计: in the third year of the term; a 30-day report period is a civil deadline.
    @Test func termAuditInTheThirdYear() throws {
        let later = try plan("economic-audit-term", ["unit": "huangjue", "term_start": "2026-12-20"])
        #expect(later.params.first { $0.name == "audit_day" }?.value == "2029-12-20")
        #expect(try later.step("fieldwork").deadline?.local == at("2030-01-21T23:59"))         // 01-19 is a Saturday
        #expect(try later.step("fieldwork").deadline?.provisional == true)

        // Audit day 2026-10-02 (National Day) → 10-08; the list 10 workdays earlier skips 中秋.
        let autumn = try plan("economic-audit-term", ["unit": "qingshan", "term_start": "2023-10-02"])
        #expect(autumn.params.first { $0.name == "audit_day" }?.value == "2026-10-08")
        #expect(try autumn.step("major-matters").due.local == at("2026-09-17T09:00"))
        #expect(try autumn.step("fieldwork").deadline?.local == at("2026-11-09T23:59"))        // 11-07 is a Saturday
    }

    /// 信访工作条例: 15 days to register and route, 60 days from acceptance to resolve; a last day
    /// in a holiday moves on (民法典 art. 203).
    @Test func disputeCaseClocks() throws {
        let september = try plan("dispute-case", ["unit": "guqiao-shequ", "subject": "漏水纠纷", "received_day": "2026-09-21"])
        let route = try september.step("register-route")
        #expect(route.deadline?.local == at("2026-10-08T23:59"))                               // R+15 = 10-06
        #expect(route.deadline?.movedFrom == date("2026-10-06"))
        #expect(route.users == ["heping"])
        #expect(september.params.first { $0.name == "accepted_day" }?.value == "2026-10-08")
        #expect(try september.step("resolve").deadline?.local == at("2026-12-07T23:59"))      // A+60
        #expect(try september.step("whistle").escalatedTo == [["xiebo"]])

        let november = try plan("dispute-case", ["unit": "huangjue", "subject": "宅基地界址纠纷", "received_day": "2026-11-16"])
        #expect(try november.step("register-route").deadline?.local == at("2026-12-01T23:59"))
        #expect(try november.step("register-route").users == ["huanghe"])
        let resolve = try november.step("resolve")                                             // A+60 = 2027-01-30, a Saturday
        #expect(resolve.deadline?.local == at("2027-02-01T23:59"))
        #expect(resolve.deadline?.provisional == true)
        // An approved 30-day extension is a new resolve_by.
        let extended = try plan("dispute-case", ["unit": "huangjue", "subject": "宅基地界址纠纷", "received_day": "2026-11-16", "resolve_by": "2027-03-01"])
        #expect(try extended.step("resolve").deadline?.local == at("2027-03-01T23:59"))
    }

    /// One objection to the voter list: decided within 3 days of its receipt (民法典 art. 203:
    /// a last day off moves to the next workday, at 24:00), the township told at that deadline.
    @Test func voterListObjectionDecidedWithinThreeDaysOfReceipt() throws {
        let ordinary = try plan("voter-list-objection", ["unit": "huangjue", "election": "12", "received_on": "2026-11-30", "objector": "张三"])
        let decide = try ordinary.step("decide")
        #expect(decide.deadline?.local == at("2026-12-03T23:59"))                  // R+3, a Thursday
        #expect(decide.deadline?.movedFrom == nil)
        #expect(decide.escalations.map(\.at.local) == [at("2026-12-03T23:59"), at("2026-12-04T23:59")])
        #expect(!decide.users.isEmpty, "the election committee of 黄桷村")
        // Received on 10-02: the 3rd day, 10-05, is in the National Day holiday → 10-08.
        let holiday = try plan("voter-list-objection", ["unit": "guqiao-shequ", "election": "3", "received_on": "2026-10-02", "objector": "李四"])
        #expect(try holiday.step("decide").deadline?.local == at("2026-10-08T23:59"))
        #expect(try holiday.step("decide").deadline?.movedFrom == date("2026-10-05"))
        // The election is named by its instance id.
        #expect(throws: PlanError.self) {
            try plan("voter-list-objection", ["unit": "huangjue", "election": "第12号", "received_on": "2026-11-30", "objector": "张三"])
        }
    }

    /// The 12-01 trigger no longer sets every village's meeting at the same hour: villages under
    /// one township meet a workday apart (trigger.spread), and lint warns when a file would
    /// make one person attend two meetings at once.
    @Test func yearEndMeetingsUnderOneTownshipAreSpreadAndClashesAreWarned() throws {
        let (definition, planner) = try load("year-end-review")
        let calendar = try Shipped.calendar()
        let chart = try Shipped.chart()
        let start = LocalDateTime("2026-12-01T09:00")!.instant(in: shanghai)
        let params = TriggerSchedule.params(for: ["huangjue", "shiling", "qingshan"], of: definition, chart: chart, planner: planner,
                                            start: start, timeZone: shanghai, calendar: calendar)
        #expect(params["huangjue"]?["meeting_day"] == "2026-12-31")
        #expect(params["shiling"]?["meeting_day"] == "2027-01-04", "the next workday after 元旦 and the weekend (provisional 2027)")
        #expect(params["qingshan"]?["meeting_day"] == "2026-12-31", "another township")
        let now = LocalDateTime("2026-11-20T09:00")!.instant(in: shanghai)
        #expect(TriggerSchedule.conflicts(definition, chart: chart, calendar: calendar, timeZone: shanghai, now: now).isEmpty)

        // Without the spread, 禄市镇's 组织委员 is due at both villages' meetings at 09:00 on 12-31.
        var unspread = definition
        unspread.trigger?.spread = nil
        let clashes = TriggerSchedule.conflicts(unspread, chart: chart, calendar: calendar, timeZone: shanghai, now: now)
        #expect(clashes.count == 1)
        #expect(clashes.first?.severity == .warning)
        #expect(clashes.first?.location?.line == definition.step("review-meeting")?.at?.location.line)
        #expect(clashes.first?.message.contains("'review-meeting' of 2 units at the same time, 2026-12-31 09:00") == true, "\(clashes)")
    }

    /// The candidate-list lead time is the deployment's setting: E−N, moved to the workday
    /// before when it is a day off (as E−20); without the setting there is no date at all,
    /// and lint says which key to set.
    @Test func candidateListLeadTimeIsAProvincialSettingWithThePreviousWorkdayRule() throws {
        let (definition, planner) = try load("election-cycle")
        let start = LocalDateTime("2026-09-01T09:00")!.instant(in: shanghai)
        func candidateList(_ lead: Int, _ extra: [String: String] = [:]) throws -> PlannedStep {
            var withLead = planner
            withLead.settings = ["candidate_list_lead_days": lead]
            var params = ["unit": "huangjue", "election_day": "2026-12-20"]
            params.merge(extra) { $1 }
            return try #require(try withLead.plan(definition, params: params, start: start, now: start).steps.first { $0.id == "publish-candidate-list" })
        }
        #expect(try candidateList(5).deadline?.local == at("2026-12-15T18:00"))        // E−5, a Tuesday
        #expect(try candidateList(3).deadline?.local == at("2026-12-17T18:00"))
        #expect(try candidateList(7).deadline?.local == at("2026-12-11T18:00"), "E−7 = 12-13 is a Sunday: the Friday before")
        let byHand = try candidateList(5, ["candidate_list_day": "2026-12-13"])
        #expect(byHand.deadline?.local == at("2026-12-11T18:00"))
        #expect(byHand.deadline?.movedFrom == date("2026-12-13"))

        var bare = planner
        bare.settings = [:]
        #expect(throws: PlanError.self) {
            try bare.plan(definition, params: ["unit": "huangjue", "election_day": "2026-12-20"], start: start, now: start)
        }
        do {
            _ = try bare.plan(definition, params: ["unit": "huangjue", "election_day": "2026-12-20"], start: start, now: start)
        } catch {
            #expect(error.messages.contains { $0.contains("candidate_list_lead_days") && $0.contains("not set in huaying.yaml") }, "\(error.messages)")
        }
        var checker = WorkflowChecker(calendars: CalendarLibrary([try Shipped.calendar()]), orgChart: try Shipped.chart())
        checker.settings = [:]
        let findings = checker.check(path: TestPaths.workflows + "/election-cycle.yaml").diagnostics.map(\.description)
        #expect(findings.contains { $0.hasSuffix("election-cycle.yaml:40:65: error: 'settings.candidate_list_lead_days' is a deployment setting that huaying.yaml does not give; expected election.candidate_list_lead_days: the province's lead time of the final candidate list, E−3…E−7, with election.province naming the province") }, "\(findings)")
    }

    /// The objection window counts from the day the list was posted (the publication's
    /// posted_on), not from the acknowledgement: the formula reads the field.
    @Test func theObjectionWindowCountsFromThePostingDay() throws {
        for workflow in ["election-cycle", "community-election-cycle"] {
            let (definition, _) = try load(workflow)
            #expect(definition.step("publish-voter-list")?.ack?.fields == ["posted_on"])
            #expect(definition.step("objection-period-ends")?.at.map { "\($0.value)" } == "steps.publish-voter-list.fields.posted_on + 5 days civil-deadline")
            #expect(definition.dateFields(of: "publish-voter-list") == ["posted_on"])
        }
    }

    /// 人民调解法 art. 33 and the 复查 window: 30 days from the answer.
    @Test func judicialConfirmationAndReviewWindowsAreThirtyDays() throws {
        let (definition, _) = try load("dispute-case")
        #expect(definition.step("judicial-confirmation")?.deadline.map { "\($0.value)" }?.contains("30 days") == true)
        #expect(definition.step("review-window-ends")?.at.map { "\($0.value)" }?.contains("30 days") == true)
    }

    /// 村民代表会议 every quarter: started on each quarter's first day, held by its last day.
    @Test func representativesMeetQuarterly() throws {
        let (definition, _) = try load("representatives-meeting")
        #expect(definition.trigger?.every == .quarter)
        #expect(definition.trigger?.day == 1)
        #expect(definition.trigger?.unitKinds == [.village])
        let q3 = try plan("representatives-meeting", ["unit": "huangjue", "quarter_start": "2026-07-01"])
        #expect(try q3.step("convene").deadline?.local == at("2026-09-23T18:00"))
        #expect(try q3.step("hold-meeting").deadline?.local == at("2026-09-30T18:00"))
        let q1 = try plan("representatives-meeting", ["unit": "qingshan", "quarter_start": "2026-01-01"])
        #expect(try q1.step("hold-meeting").deadline?.local == at("2026-03-31T18:00"))
        #expect(try q1.step("convene").deadline?.local == at("2026-03-24T18:00"))
        #expect(try q1.step("convene").users == ["guoliang"])
    }

    /// The 5-year term: the township is told a year ahead; an election's completion starts it.
    @Test func termRenewalReminderAYearAhead() throws {
        let round2021 = try plan("term-renewal-reminder", ["unit": "huangjue", "last_election_day": "2021-01-10"], start: "2021-01-10T09:00")
        #expect(round2021.params.first { $0.name == "term_end" }?.value == "2026-01-10")
        #expect(try round2021.step("plan-renewal").due.local == at("2025-01-10T09:00"))
        #expect(try round2021.step("plan-renewal").users == ["yangfan", "tianye"])
        #expect(try round2021.step("schedule-election").deadline?.local == at("2026-01-09T18:00"))   // 01-10 is a Saturday
        let round2026 = try plan("term-renewal-reminder", ["unit": "guqiao-shequ", "last_election_day": "2026-12-20"])
        #expect(try round2026.step("plan-renewal").due.local == at("2030-12-20T09:00"))
        #expect(try round2026.step("plan-renewal").due.provisional)
        for workflow in ["election-cycle", "community-election-cycle"] {
            #expect(try load(workflow).0.then.contains { $0.workflow.value == "term-renewal-reminder" }, "\(workflow)")
        }
    }
}

@Suite struct StepTimePlaceholderTests {
    /// Item 4 (model side): {{deadline}} and {{ack_by}} are checked against the step they are in.
    @Test func deadlineAndAckByNeedTheStepToHaveThem() throws {
        let text = """
            workflow: w
            title: 测试
            params:
              unit: { type: unit, title: 村 }
              day: { type: date, title: 日 }
            steps:
              - id: good
                title: 有期限
                deadline: day at 18:00 previous-workday
                uses: remind
                with: { to: director@unit, message: "最迟于{{deadline}}，确认期限{{ack_by}}" }
                ack: { within: 1 workday }
              - id: bad
                title: 无期限
                uses: remind
                with: { to: director@unit, message: "最迟于{{deadline}}，{{ack_by}}" }
            then:
              - start: w
                params: { unit: "{{unit.id}}", day: "{{deadline}}" }
            """
        let chart = try Shipped.chart()
        let checker = WorkflowChecker(calendars: CalendarLibrary([try Shipped.calendar()]), orgChart: chart)
        let result = checker.check(try YAMLFile(path: "w.yaml", text: text))
        let errors = result.diagnostics.filter { $0.severity == .error }.map(\.description)
        #expect(errors == [
            "w.yaml:16:47: error: '{{deadline}}' is used but this step has no 'deadline:'; add one or write the date as a time expression",
            "w.yaml:16:60: error: '{{ack_by}}' is used but this step has no 'ack:'; expected an acknowledged step",
            "w.yaml:19:44: error: '{{deadline}}' is the time of the step it is written in; it is known only in a step's 'with:'",
        ], "\(result.diagnostics)")
    }
}

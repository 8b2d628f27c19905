import Foundation
import Testing
@testable import WorkflowModel

@Suite struct ElectionPlanTests {
    func plan(_ params: [String: String]) throws -> WorkflowPlan {
        let calendar = try Shipped.calendar()
        let chart = try Shipped.chart()
        let checker = WorkflowChecker(calendars: CalendarLibrary([calendar]), orgChart: chart)
        let definition = try checker.load(path: TestPaths.workflows + "/election-cycle.yaml")
        let start = LocalDateTime("2026-09-01T09:00")!.instant(in: shanghai)
        return try WorkflowPlanner(calendar: calendar, orgChart: chart, timeZone: shanghai).withShippedSettings
            .plan(definition, params: params, start: start, now: start)
    }

    @Test func voterListIsDueNoLaterThanTwentyDaysBeforeTheElection() throws {
        let plan = try plan(["unit": "huangjue", "election_day": "2026-12-20"])
        let step = try #require(plan.steps.first { $0.id == "publish-voter-list" })
        #expect(step.due.date <= date("2026-11-30"))
        #expect(step.deadline?.local == LocalDateTime("2026-11-30T18:00"))
        #expect(step.assignees.first?.people.map(\.user) == ["panyong"])
        #expect(step.escalations.map(\.to.unitName) == ["禄市镇", "华蓥市"])
        #expect(plan.params.first { $0.name == "candidate_list_day" }?.value == "2026-12-15")
    }

    @Test func handoverDeadlineIsTenDaysAfterTheNewCommittee() throws {
        let plan = try plan(["unit": "huangjue", "election_day": "2026-12-20"])
        let handover = try #require(plan.steps.first { $0.id == "handover" })
        #expect(handover.deadline?.local == LocalDateTime("2026-12-30T23:59"))
        #expect(handover.deadline?.movedFrom == nil)
        #expect(handover.deadline?.formula == "new_committee_day + 10 days civil-deadline")
    }

    @Test func handoverEndingInNationalDayMovesToTheNextWorkday() throws {
        let plan = try plan(["unit": "huangjue", "election_day": "2026-09-24"])
        let handover = try #require(plan.steps.first { $0.id == "handover" })
        #expect(handover.deadline?.date == date("2026-10-08"))
        #expect(handover.deadline?.movedFrom == date("2026-10-04"))
        #expect(handover.assignees.last?.unitName == "禄市镇")
        // A separately given N wins over the default (N = E).
        let later = try self.plan(["unit": "huangjue", "election_day": "2026-09-20", "new_committee_day": "2026-09-24"])
        #expect(later.steps.first { $0.id == "handover" }?.deadline?.date == date("2026-10-08"))
    }

    @Test func yearsTheCalendarDoesNotCoverAreFlagged() throws {
        let plan = try plan(["unit": "qingshan", "election_day": "2027-03-14"])
        #expect(plan.steps.contains { $0.due.provisional })
        #expect(plan.warnings.first?.hasPrefix("calendar 'cn-mainland' does not cover 2027") == true)
    }

    @Test func badParametersAreRefusedWithTheChoices() throws {
        #expect(throws: PlanError.self) { try plan(["election_day": "2026-12-20"]) }
        do {
            _ = try plan(["unit": "guqiao", "election_day": "2026-13-01", "colour": "red"])
            Issue.record("expected a PlanError")
        } catch let error as PlanError {
            #expect(error.messages == [
                "unknown parameter 'colour'; expected one of: unit, election_day, candidate_list_day, new_committee_day",
                "parameter 'unit': 古桥街道 (guqiao) is a street; expected a unit of kind village",
                "parameter 'election_day' must be a date YYYY-MM-DD; found '2026-13-01'",
            ])
        }
    }
}

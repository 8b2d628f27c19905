import Testing
@testable import WorkflowModel

/// `away:` in staff.yaml: leave with a substitute, as `huaying away` records it, checked at
/// file:line:col.
@Suite struct StaffLeaveTests {
    static let head = """
        roles: { secretary: 书记, civil-affairs: 民政 }
        units:
          - { id: town, name: 某镇, kind: township }
          - { id: cun, name: 某村, kind: village, parent: town }
        staff:

        """

    private func check(_ staff: String) throws -> (chart: OrgChart?, messages: [String]) {
        let result = OrgChartFile.check(try YAMLFile(path: "staff.yaml", text: Self.head + staff))
        return (result.chart, result.diagnostics.map(\.description))
    }

    @Test func aLeaveIsReadWithItsSubstitute() throws {
        let (chart, messages) = try check("""
              - user: zhang
                name: 张
                roles: { cun: [secretary] }
                away:
                  - { from: 2026-12-01, until: 2026-12-05, substitute: li }
              - { user: li, name: 李, roles: { town: [civil-affairs] } }
            """)
        #expect(messages == [])
        let leave = try #require(chart?.member(user: "zhang")?.away.first)
        #expect(leave.from == CivilDate("2026-12-01") && leave.until == CivilDate("2026-12-05") && leave.substitute == "li")
        #expect(chart?.member(user: "li")?.away == [])
    }

    @Test func aBadLeaveIsAnErrorAtItsPosition() throws {
        let (chart, messages) = try check("""
              - user: zhang
                name: 张
                roles: { cun: [secretary] }
                away:
                  - { from: 2026-12-40, until: 2026-12-05, substitute: li }
                  - { from: 2026-12-09, until: 2026-12-05, substitute: li }
                  - { from: 2026-12-01, until: 2026-12-05, substitute: zhang }
                  - { from: 2026-12-01, until: 2026-12-05, substitute: nobody }
                  - { from: 2026-12-01, substitute: li, reason: 培训 }
              - { user: li, name: 李, roles: { town: [civil-affairs] } }
            """)
        #expect(chart == nil)
        #expect(messages == [
            "staff.yaml:10:17: error: 'from' of a leave must be a date (YYYY-MM-DD); found '2026-12-40'",
            "staff.yaml:11:36: error: a leave ends (2026-12-05) before it begins (2026-12-09)",
            "staff.yaml:12:60: error: 'zhang' cannot stand in for themself; name someone else as 'substitute'",
            "staff.yaml:13:9: error: substitute 'nobody' of 'zhang' is not a 'user:' of 'staff'",
            "staff.yaml:14:9: error: missing required key 'until' in a leave of 'zhang' in 'away'",
            "staff.yaml:14:45: error: unknown key 'reason' in a leave of 'zhang' in 'away'; expected one of: from, until, substitute",
        ], "\(messages)")
    }

    @Test func substitutesGoingRoundInACircleAreAnError() throws {
        let (chart, messages) = try check("""
              - user: zhang
                name: 张
                roles: { cun: [secretary] }
                away: [{ from: 2026-12-01, until: 2026-12-05, substitute: li }]
              - user: li
                name: 李
                roles: { town: [civil-affairs] }
                away: [{ from: 2026-12-05, until: 2026-12-06, substitute: zhang }]
            """)
        #expect(chart == nil)
        #expect(messages == ["staff.yaml:9:12: error: on 2026-12-05 the substitutes go round in a circle (zhang → li → zhang); expected someone present at the end"], "\(messages)")
    }
}

import Testing
@testable import WorkflowModel

@Suite struct OrgChartTests {
    @Test func roleAtUnitIsTheInstancesOwnUnit() throws {
        let chart = try Shipped.chart()
        let (unit, holders) = try chart.resolve(RoleReference("election-committee@unit")!, from: "guqiao-shequ")
        #expect(unit.name == "古桥社区")
        #expect(holders.map(\.user) == ["sunli", "wugang", "zhengfang"])
    }

    @Test func roleAtTownshipFindsTheNearestTownshipOrStreet() throws {
        let chart = try Shipped.chart()
        let street = try chart.resolve(RoleReference("civil-affairs@township")!, from: "guqiao-shequ")
        #expect(street.unit.id == "guqiao" && street.unit.kind == .street)
        #expect(street.holders.map(\.user) == ["wanghong"])
        let town = try chart.resolve(RoleReference("civil-affairs@street")!, from: "huangjue")
        #expect(town.unit.id == "lushi" && town.unit.kind == .township)
        let city = try chart.resolve(RoleReference("civil-affairs@county")!, from: "qingshan")
        #expect(city.unit.name == "华蓥市" && city.holders.count == 2)
        // A unit of the level itself counts as "nearest".
        #expect(try chart.resolve(RoleReference("discipline@township")!, from: "shuanghe").unit.id == "shuanghe")
        // A named unit.
        #expect(try chart.resolve(RoleReference("civil-affairs@huaying")!, from: "xijie").holders.first?.user == "lijianguo")
    }

    @Test func onePersonMayHoldBothPosts() throws {
        let chart = try Shipped.chart()
        let secretary = try chart.resolve(RoleReference("secretary@unit")!, from: "guqiao-shequ").holders
        let director = try chart.resolve(RoleReference("director@unit")!, from: "guqiao-shequ").holders
        #expect(secretary == director && secretary.map(\.user) == ["zhaomin"])
    }

    @Test func missingHolderNamesTheUnitAndRole() throws {
        let chart = try Shipped.fixtureChart()
        #expect(throws: OrgChartError("nobody holds discipline (纪委) in 示例街道 (jiedao); expected a staff member with that role there in the org chart")) {
            try chart.resolve(RoleReference("discipline@township")!, from: "shequ")
        }
        #expect(throws: OrgChartError("unknown unit 'nowhere'; expected a unit id from the org chart")) {
            try chart.resolve(RoleReference("secretary@unit")!, from: "nowhere")
        }
        #expect(throws: OrgChartError("示例市 (shi) has no township or street at or above it; expected a parent chain reaching that level")) {
            try chart.resolve(RoleReference("civil-affairs@township")!, from: "shi")
        }
    }

    @Test func referencesParse() {
        #expect(RoleReference("a@unit")?.scope == .ownUnit)
        #expect(RoleReference("a@city")?.scope == .level(.city))
        #expect(RoleReference("a@guqiao")?.scope == .unit("guqiao"))
        #expect(RoleReference("a") == nil)
        #expect(RoleReference("a@b@c") == nil)
        #expect(RoleReference("书记@unit") == nil)
    }

    @Test func lintCheckFindsAHolderSomewhere() throws {
        let chart = try Shipped.fixtureChart()
        #expect(chart.problem(with: RoleReference("election-committee@unit")!) == nil)
        #expect(chart.problem(with: RoleReference("election-committee@unit")!, instanceKinds: [.community]) == nil)
        #expect(chart.problem(with: RoleReference("civil-affairs@township")!) == nil)
        #expect(chart.problem(with: RoleReference("director@village")!) == nil)
        #expect(chart.problem(with: RoleReference("director@unit")!, instanceKinds: [.village]) != nil)
    }

    @Test func validationErrorsCarryPositions() throws {
        let text = """
            roles: { secretary: 书记 }
            units:
              - { id: a, name: 甲, kind: village, parent: b }
              - { id: b, name: 乙, kind: township }
              - { id: b, name: 丙, kind: township }
            staff:
              - { user: Bad, name: 坏, roles: { a: [secretary] } }

            """
        let result = OrgChartFile.check(try YAMLFile(path: "staff.yaml", text: text))
        #expect(result.chart == nil)
        #expect(result.diagnostics.map(\.description) == [
            "staff.yaml:5:11: error: duplicate unit id 'b' (first given on line 4)",
            "staff.yaml:7:13: error: 'Bad' is not a valid Unix user name; expected lowercase letters, digits, '-' or '_', starting with a letter or '_'",
        ])
    }

    /// Item 9: a committee member on the supervision committee of the same unit is a warning
    /// (the example chart had 石岭村's director on it).
    @Test func aCommitteeMemberOnTheSupervisionCommitteeIsAWarning() throws {
        let text = """
            roles: { director: 主任, committee-member: 委员, supervision-committee: 监委会 }
            units:
              - { id: town, name: 某镇, kind: township }
              - { id: cun, name: 某村, kind: village, parent: town }
              - { id: shequ, name: 某社区, kind: community, parent: town }
            staff:
              - user: yuqing
                name: 余青
                roles: { cun: [director, supervision-committee] }
              - user: other
                name: 某人
                roles: { cun: [committee-member], shequ: [supervision-committee] }
              - user: third
                name: 第三
                roles: { shequ: [committee-member, supervision-committee] }
            """
        let result = OrgChartFile.check(try YAMLFile(path: "staff.yaml", text: text))
        #expect(result.chart != nil, "a warning, not an error")
        #expect(result.diagnostics.map(\.description) == [
            "staff.yaml:7:11: warning: 'yuqing' (余青) holds director and supervision-committee in 某村 (cun); 村民委员会成员及其近亲属不得担任村务监督委员会成员: give the supervision-committee role to someone else",
            "staff.yaml:13:11: warning: 'third' (第三) holds committee-member and supervision-committee in 某社区 (shequ); 居民委员会成员及其近亲属不得担任居务监督委员会成员: give the supervision-committee role to someone else",
        ])
    }

    @Test func theExampleChartKeepsTheRule() throws {
        let result = OrgChartFile.check(try YAMLFile(path: TestPaths.staff))
        #expect(result.diagnostics.filter { $0.message.contains("supervision-committee") }.isEmpty, "\(result.diagnostics)")
    }
}

import Foundation
import Testing
@testable import WorkflowModel

/// Each broken fixture produces exactly the expected `file:line:col: severity: message` lines.
@Suite struct BrokenWorkflowFixtureTests {
    static func findings(_ name: String) throws -> [String] {
        let calendars = CalendarLibrary.load(directory: TestPaths.calendars)
        #expect(calendars.diagnostics.isEmpty)
        let checker = WorkflowChecker(calendars: calendars.library, orgChart: try Shipped.fixtureChart())
        let result = checker.check(path: TestPaths.broken + "/" + name)
        return result.diagnostics.map { $0.description.replacingOccurrences(of: TestPaths.broken + "/", with: "") }
    }

    @Test func invalidYAMLPointsAtTheScannerPosition() throws {
        #expect(try Self.findings("invalid-yaml.yaml") == [
            "invalid-yaml.yaml:7:1: error: invalid YAML: found unexpected end of stream (while scanning a quoted scalar)",
        ])
    }

    @Test func unknownKeyIsReportedAtTheKeyWithTheExpectedKeys() throws {
        #expect(try Self.findings("unknown-key.yaml") == [
            "unknown-key.yaml:8:5: error: unknown key 'when' in step 'a'; expected one of: id, title, at, deadline, after, uses, with, notify, urgent, ack, then",
        ])
    }

    @Test func missingKeyIsReportedAtTheStep() throws {
        #expect(try Self.findings("missing-key.yaml") == [
            "missing-key.yaml:4:5: error: missing required key 'uses' in step 'a'",
        ])
    }

    @Test func wrongTypeIsReportedAtTheValue() throws {
        #expect(try Self.findings("wrong-type.yaml") == [
            "wrong-type.yaml:5:12: error: 'title' must be text, found a list",
        ])
    }

    @Test func duplicateStepIdPointsAtTheSecondAndNamesTheFirstLine() throws {
        #expect(try Self.findings("duplicate-step.yaml") == [
            "duplicate-step.yaml:8:9: error: duplicate step id 'a' (first given on line 4); expected each step id once",
        ])
    }

    @Test func afterNamingAnUnknownStepPointsAtThatEntry() throws {
        #expect(try Self.findings("unknown-after.yaml") == [
            "unknown-after.yaml:10:16: error: 'after' names unknown step 'c'; expected one of: a, b",
        ])
    }

    @Test func dependencyCycleIsNamedOnce() throws {
        #expect(try Self.findings("cycle.yaml") == [
            "cycle.yaml:6:12: error: dependency cycle: a → c → b → a (each waits for the next); expected steps that do not wait for each other in a circle",
        ])
    }

    @Test func unknownPluginListsTheKnownOnes() throws {
        #expect(try Self.findings("unknown-plugin.yaml") == [
            "unknown-plugin.yaml:6:11: error: unknown plugin 'sms' in 'uses'; expected one of: escalate, record, remind",
        ])
    }

    @Test func pluginInputIsCheckedByThePluginSchema() throws {
        #expect(try Self.findings("bad-with.yaml") == [
            "bad-with.yaml:10:7: error: missing required key 'message' in 'with' of remind; expected keys: to, message",
            "bad-with.yaml:10:11: error: 'election-committee' is not a role reference; expected role@unit, role@<kind> (village, community, township, street, county, city) or role@<unit-id>",
            "bad-with.yaml:11:7: error: unknown key 'mesage' in 'with' of remind; expected one of: to, message",
        ])
    }

    @Test func undeclaredParamsInTimeExpressionsAndTemplates() throws {
        #expect(try Self.findings("undeclared-param.yaml") == [
            "undeclared-param.yaml:8:9: error: parameter 'vote_day' is used but not declared; expected one of the params: election_day",
            "undeclared-param.yaml:11:16: error: parameter 'village' is used in '{{village.name}}' but not declared; expected one of the params: election_day",
        ])
    }

    @Test func badTimeExpressionsPointAtTheBadWord() throws {
        #expect(try Self.findings("bad-time.yaml") == [
            "bad-time.yaml:8:27: error: cannot read time expression: expected a unit (seconds, minutes, hours, days, weeks, months, workdays) after 20, found 'dayz'",
            "bad-time.yaml:13:26: error: cannot read time expression: expected a time of day HH:MM after 'at', found '25:00'",
        ])
    }

    @Test func unknownCalendarListsTheLoadedOnes() throws {
        #expect(try Self.findings("unknown-calendar.yaml") == [
            "unknown-calendar.yaml:3:11: error: unknown calendar 'cn-taiwan'; expected one of the calendars in the calendars folder: cn-mainland",
        ])
    }

    @Test func roleReferencesTheOrgChartCannotResolve() throws {
        #expect(try Self.findings("unresolvable-role.yaml") == [
            "unresolvable-role.yaml:11:11: error: 'discipline@township' cannot be resolved: nobody holds discipline (纪委) in any township or street of the org chart; expected a staff member with that role",
            "unresolvable-role.yaml:16:25: error: unknown role 'mayor' in 'mayor@county'; expected one of: civil-affairs, director, discipline, election-committee, secretary",
        ])
    }

    @Test func aDateInAYearTheCalendarDoesNotCoverIsAWarning() throws {
        #expect(try Self.findings("uncovered-year.yaml") == [
            "uncovered-year.yaml:6:9: warning: 2027-03-01 lies in 2027, which calendar 'cn-mainland' does not cover (it covers 2025, 2026); workdays there are counted from the statutory days off of 全国年节及纪念日放假办法（2024年修订） without make-up workdays and marked provisional",
        ])
        let checker = WorkflowChecker(calendars: CalendarLibrary.load(directory: TestPaths.calendars).library, orgChart: nil)
        #expect(checker.check(path: TestPaths.broken + "/uncovered-year.yaml").definition != nil)
    }

    @Test func anEscalationToSomeoneWhoAlreadyHasTheReminderIsAWarning() throws {
        #expect(try Self.findings("escalate-to-recipient.yaml") == [
            "escalate-to-recipient.yaml:13:25: warning: escalation level 1 goes to civil-affairs@township, who already has the reminder; expected someone new, such as the next level up",
        ])
    }

    @Test func everyErrorInAFileIsReported() throws {
        #expect(try Self.findings("many-errors.yaml") == [
            "many-errors.yaml:3:1: error: unknown key 'colour' in the workflow file; expected one of: workflow, title, description, params, calendar, default_time, steps, trigger, then",
            "many-errors.yaml:7:11: error: unknown plugin 'recrd' in 'uses'; expected one of: escalate, record, remind",
            "many-errors.yaml:10:12: error: 'after' names unknown step 'z'; expected one of: a, b",
            "many-errors.yaml:11:17: error: cannot read time expression: expected a whole number after '+' or '-', found 'two'",
            "many-errors.yaml:13:22: error: parameter 'nobody' is used in '{{nobody}}' but not declared; expected one of the params: (none declared)",
        ])
    }

    @Test func everyBrokenFixtureHasATest() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: TestPaths.broken).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(names == [
            "bad-time.yaml", "bad-with.yaml", "cycle.yaml", "duplicate-step.yaml", "escalate-to-recipient.yaml", "invalid-yaml.yaml", "many-errors.yaml",
            "missing-key.yaml", "uncovered-year.yaml", "undeclared-param.yaml", "unknown-after.yaml", "unknown-calendar.yaml",
            "unknown-key.yaml", "unknown-plugin.yaml", "unresolvable-role.yaml", "wrong-type.yaml",
        ])
    }

    @Test func theValidFixtureLoadsWithItsLocations() throws {
        let checker = WorkflowChecker(calendars: CalendarLibrary.load(directory: TestPaths.calendars).library, orgChart: try Shipped.fixtureChart())
        let definition = try checker.load(path: TestPaths.fixtures + "/valid.yaml")
        #expect(definition.id.value == "valid")
        #expect(definition.steps.map(\.id.value) == ["publish", "published"])
        let publish = try #require(definition.step("publish"))
        #expect(publish.at?.value.description == "election_day - 25 days previous-workday")
        #expect(publish.at?.location == SourceLocation(file: TestPaths.fixtures + "/valid.yaml", line: 11, column: 9))
        #expect(publish.ack?.within == TimeOffset(amount: 2, unit: .workdays))
        #expect(publish.ack?.escalate?.chain.map(\.description) == ["civil-affairs@township", "civil-affairs@county"])
        #expect(definition.step("published")?.after.map(\.value) == ["publish"])
    }

    @Test func theShippedWorkflowsAreClean() throws {
        let config = HuayingConfig(
            file: TestPaths.packageRoot + "/etc/huaying.yaml", stateDirectory: "/tmp", socketPath: "/tmp/x.sock",
            workflowsDirectory: TestPaths.workflows, pluginsDirectory: TestPaths.fixtures + "/no-plugins", staffFile: TestPaths.staff,
            calendarsDirectory: TestPaths.calendars, timeZone: shanghai, logLevel: .info, sqliteSynchronous: .full,
            province: "四川省", settings: Shipped.settings)
        let report = Linter.lint(paths: [TestPaths.workflows], config: config)
        #expect(report.diagnostics.map(\.description) == [])
        #expect(report.files.contains { $0.hasSuffix("election-cycle.yaml") })
    }
}

/// Broken org charts and calendars report positions too.
@Suite struct BrokenSupportFileFixtureTests {
    static func staffFindings(_ name: String) throws -> [String] {
        let path = TestPaths.fixtures + "/broken-staff/" + name
        return OrgChartFile.check(try YAMLFile(path: path)).diagnostics.map {
            $0.description.replacingOccurrences(of: TestPaths.fixtures + "/broken-staff/", with: "")
        }
    }

    @Test func unknownParent() throws {
        #expect(try Self.staffFindings("unknown-parent.yaml") == [
            "unknown-parent.yaml:4:50: error: unknown parent 'county' of unit 'zhen'; expected the id of another unit in this file",
        ])
    }

    @Test func duplicateUser() throws {
        #expect(try Self.staffFindings("duplicate-user.yaml") == [
            "duplicate-user.yaml:8:11: error: duplicate user 'ana' (first given on line 5); expected one entry per person, with all their roles",
        ])
    }

    @Test func parentCycle() throws {
        #expect(try Self.staffFindings("cycle.yaml") == [
            "cycle.yaml:3:47: warning: parent 'b' (township) of 'a' (township) is not a higher level; expected village/community → township/street → county/city",
            "cycle.yaml:3:47: error: units form a cycle through 'parent': a → b → a; expected each chain to end at a unit without a parent",
            "cycle.yaml:4:47: warning: parent 'a' (township) of 'b' (township) is not a higher level; expected village/community → township/street → county/city",
        ])
    }

    @Test func unknownKindAndUnknownRole() throws {
        #expect(try Self.staffFindings("unknown-kind.yaml") == [
            "unknown-kind.yaml:3:29: error: 'kind' must be one of village, community, township, street, county, city; found 'province'",
            "unknown-kind.yaml:7:18: error: unknown role 'mayor'; expected one of: secretary",
        ])
    }

    @Test func brokenCalendar() throws {
        let path = TestPaths.fixtures + "/broken-calendars/bad-calendar.yaml"
        let result = CalendarFile.check(try YAMLFile(path: path))
        #expect(result.calendar == nil)
        #expect(result.diagnostics.map { $0.description.replacingOccurrences(of: TestPaths.fixtures + "/broken-calendars/", with: "") } == [
            "bad-calendar.yaml:8:14: error: 'off' must be a date (2026-10-01) or a range first..last (2026-10-01..2026-10-07); found '2026-10-07..2026-10-01'",
            "bad-calendar.yaml:11:20: warning: make-up workday 2026-05-06 (劳动节) is a wednesday, already a workday; expected a weekend day",
        ])
    }

    @Test func theShippedChartAndCalendarAreClean() throws {
        #expect(OrgChartFile.check(try YAMLFile(path: TestPaths.staff)).diagnostics.isEmpty)
        #expect(CalendarFile.check(try YAMLFile(path: TestPaths.calendars + "/cn-mainland.yaml")).diagnostics.isEmpty)
    }
}

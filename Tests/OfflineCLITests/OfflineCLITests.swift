import Foundation
import HuayingTestSupport
import Testing

/// Runs the real `huaying` binary (built because this target depends on it) against a
/// temporary config that points at the checkout's calendars, org chart and workflows.
enum HuayingBinary {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// Next to the test bundle (SwiftPM puts products in one folder), else `.build/debug`.
    static var path: String {
        let fileManager = FileManager.default
        var candidates = [
            Bundle.main.bundleURL.appendingPathComponent("huaying").path,
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("huaying").path,
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("huaying").path,
        ]
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            candidates.append(bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("huaying").path)
        }
        candidates.append(packageRoot + "/.build/debug/huaying")
        return candidates.first { fileManager.isExecutableFile(atPath: $0) } ?? candidates.last!
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Writes a config into a fresh temporary folder and returns its path.
    static func makeConfig(staff: String = packageRoot + "/etc/staff.yaml", workflows: String = packageRoot + "/workflows") throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("huaying-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = """
            paths:
              state_dir: state
              socket: huaying.sock
              workflows: \(workflows)
              staff: \(staff)
              calendars: \(packageRoot)/etc/calendars
            time_zone: Asia/Shanghai
            election: { province: 四川省, candidate_list_lead_days: 5 }

            """
        let path = directory.appendingPathComponent("huaying.yaml").path
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs the CLI in English (`LANG=en_US.UTF-8`), or with `language: "zh"` in Chinese, without
    /// COLUMNS or NO_COLOR from the runner.
    static func run(_ arguments: [String], config: String? = nil, language: String = "en") throws -> Result {
        let configPath = try config ?? makeConfig()
        var arguments = arguments
        arguments.insert(contentsOf: ["--config", configPath], at: arguments.firstIndex(of: "--") ?? arguments.count)
        var environment = ProcessInfo.processInfo.environment
        for name in ["LC_ALL", "LC_MESSAGES", "LANG", "COLUMNS", "NO_COLOR"] { environment[name] = nil }
        environment["LANG"] = language == "zh" ? "zh_CN.UTF-8" : "en_US.UTF-8"
        let result = try runProgram(path, arguments, environment: environment)
        return Result(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }
}

@Suite struct CalendarCommandTests {
    @Test func addFiveWorkdaysAfterSeptember30() throws {
        let result = try HuayingBinary.run(["calendar", "add", "2026-09-30", "5 workdays"])
        #expect(result.status == 0)
        #expect(result.stdout == "2026-10-13\n")
        #expect(result.stderr == "")
    }

    @Test func addCountsBackwardsAfterDoubleDash() throws {
        let result = try HuayingBinary.run(["calendar", "add", "--", "2026-10-13", "-5 workdays"])
        #expect(result.status == 0)
        #expect(result.stdout == "2026-09-30\n")
    }

    @Test func addRejectsAnUnreadableAmount() throws {
        let result = try HuayingBinary.run(["calendar", "add", "2026-09-30", "5 wrkdays"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("expected a unit"))
    }

    @Test func calendarAnswersInChineseInAChineseLocale() throws {
        let workday = try HuayingBinary.run(["calendar", "is-workday", "2026-10-10"], language: "zh")
        #expect(workday.stdout == "2026-10-10 周六 是工作日：国庆节调休上班\n")
        let dayOff = try HuayingBinary.run(["calendar", "is-workday", "2026-10-01"], language: "zh")
        #expect(dayOff.status == 1 && dayOff.stdout == "2026-10-01 周四 不是工作日：国庆节法定节假日\n", "\(dayOff.stdout)")
        let list = try HuayingBinary.run(["calendar", "list", "2026"], language: "zh")
        #expect(list.stdout.contains("工作日 248 天，休息日 117 天") && list.stdout.contains("节假日"), "\(list.stdout)")
    }

    @Test func makeUpSaturdayIsAWorkday() throws {
        let result = try HuayingBinary.run(["calendar", "is-workday", "2026-10-10"])
        #expect(result.status == 0)
        #expect(result.stdout == "2026-10-10 周六 is a workday: a make-up workday for 国庆节 (调休上班)\n")
    }

    @Test func nationalDayIsADayOff() throws {
        let result = try HuayingBinary.run(["calendar", "is-workday", "2026-10-05"])
        #expect(result.status == 1)
        #expect(result.stdout == "2026-10-05 周一 is not a workday: a day off for 国庆节 (法定节假日)\n")
        let weekend = try HuayingBinary.run(["calendar", "is-workday", "2026-10-17", "--json"])
        #expect(weekend.status == 1)
        #expect(weekend.stdout.contains("\"kind\" : \"weekend\""))
    }

    @Test func uncoveredYearsWarnAndExitProvisional() throws {
        let result = try HuayingBinary.run(["calendar", "is-workday", "2027-01-04"])
        #expect(result.status == 3)
        #expect(result.stderr.contains("does not cover 2027"))
        #expect(result.stdout == "2027-01-04 周一 is a workday: an ordinary workday (provisional)\n")
        // 元旦 2027 is a statutory day off even without the 2027 notice.
        let newYear = try HuayingBinary.run(["calendar", "is-workday", "2027-01-01", "--json"])
        #expect(newYear.status == 3)
        #expect(newYear.stdout.contains("\"kind\" : \"holiday\""))
        #expect(newYear.stdout.contains("\"provisional\" : true"))
        let list = try HuayingBinary.run(["calendar", "list", "2027"])
        #expect(list.stdout.contains("2027-02-05 周五 – 2027-02-08 周一"))
    }

    @Test func listShowsTheHolidaysWithTheirSource() throws {
        let result = try HuayingBinary.run(["calendar", "list", "2025"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("国办发明电〔2024〕12号"))
        #expect(result.stdout.contains("248 workdays, 117 days off"))
        #expect(result.stdout.contains("2025-09-28 周日, 2025-10-11 周六"))
        let json = try HuayingBinary.run(["calendar", "list", "2026", "--json", "--all"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect((object?["days"] as? [Any])?.count == 365)
        #expect((object?["holidays"] as? [Any])?.count == 7)
    }
}

@Suite struct LintCommandTests {
    @Test func shippedWorkflowsAreClean() throws {
        let result = try HuayingBinary.run(["lint", HuayingBinary.packageRoot + "/workflows"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout == "")
        #expect(result.stderr.contains("no problems"))
    }

    @Test func defaultsToTheConfiguredWorkflowsFolder() throws {
        let result = try HuayingBinary.run(["lint", "--json"])
        #expect(result.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(object?["errors"] as? Int == 0)
        #expect((object?["files"] as? [String])?.contains { $0.hasSuffix("election-cycle.yaml") } == true)
    }

    @Test func brokenFilesExitOneWithPositions() throws {
        let fixtures = HuayingBinary.packageRoot + "/Tests/WorkflowModelTests/Fixtures"
        let config = try HuayingBinary.makeConfig(staff: fixtures + "/staff.yaml")
        let result = try HuayingBinary.run(["lint", fixtures + "/broken/cycle.yaml", fixtures + "/broken/unknown-plugin.yaml"], config: config)
        #expect(result.status == 1)
        #expect(result.stdout.contains("broken/cycle.yaml:6:12: error: dependency cycle: a → c → b → a"))
        #expect(result.stdout.contains("broken/unknown-plugin.yaml:6:11: error: unknown plugin 'sms'"))
        #expect(result.stderr.contains("2 errors, 0 warnings"))
        let chinese = try HuayingBinary.run(["lint", fixtures + "/broken/cycle.yaml"], config: config, language: "zh")
        #expect(chinese.stderr.contains("个错误"), "\(chinese.stderr)")
    }

    /// Issue: a 5,000-step cycle overflowed the stack of the recursive cycle check (exit 139).
    @Test func aFiveThousandStepCycleIsRefusedAtTheStepLimitWithoutCrashing() throws {
        var text = "workflow: long-cycle\ntitle: 长循环\nsteps:\n"
        for index in 0..<5000 {
            text += "  - id: s\(index)\n    title: 第\(index)步\n    after: s\((index + 4999) % 5000)\n    uses: record\n    with: { text: 好 }\n"
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("long-cycle-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try HuayingBinary.run(["lint", path])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stdout.contains(":5004:5: error: a workflow file may have at most 1000 steps, this one has 5000"))
    }

    /// A finding quotes the file ("\e[2J" is valid YAML): it reaches the terminal escaped, not raw.
    @Test func anEscapeInAYAMLValueIsShownEscaped() throws {
        let text = "workflow: escape\ntitle: 转义\nsteps:\n  - { id: a, title: a, uses: \"\\e[2J\\e]0;owned\\a\", with: { text: 好 } }\n"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("escape-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try HuayingBinary.run(["lint", path])
        #expect(result.status == 1)
        #expect(result.stdout.contains(":4:30: error: unknown plugin '\\x1B[2J\\x1B]0;owned\\x07' in 'uses'"), "\(result.stdout)")
        #expect(!result.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 })
    }
}

@Suite struct PlanCommandTests {
    @Test func electionPlanShowsVoterListAndHandover() throws {
        let result = try HuayingBinary.run(["plan", "community-election-cycle", "--param", "unit=guqiao-shequ", "--param", "election_day=2026-12-20", "--start", "2026-10-15", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let steps = try #require(object["steps"] as? [[String: Any]])
        let voterList = try #require(steps.first { $0["id"] as? String == "publish-voter-list" })
        let due = try #require((voterList["due"] as? [String: Any])?["date"] as? String)
        #expect(due <= "2026-11-30")
        #expect((voterList["deadline"] as? [String: Any])?["local"] as? String == "2026-11-30T18:00")
        let handover = try #require(steps.first { $0["id"] as? String == "handover" })
        #expect((handover["deadline"] as? [String: Any])?["date"] as? String == "2026-12-30")
    }

    /// `start --dry-run` starts nothing (no daemon is needed) and prints the plan `plan` prints.
    @Test func startDryRunPrintsThePlanWithoutADaemon() throws {
        let params = ["--param", "unit=guqiao-shequ", "--param", "election_day=2026-12-20"]
        let dry = try HuayingBinary.run(["--socket", "/tmp/no-such-daemon.sock", "start", "community-election-cycle", "--dry-run", "--json"] + params)
        #expect(dry.status == 0, "\(dry.stderr)")
        let plan = try HuayingBinary.run(["plan", "community-election-cycle", "--json"] + params)
        let steps = { (text: String) -> [String] in
            let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
            return ((object?["steps"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
        }
        #expect(!steps(dry.stdout).isEmpty && steps(dry.stdout) == steps(plan.stdout))
    }

    /// A start on dates already gone says how many steps it would run at once, as `start` does.
    @Test func startDryRunCountsTheStepsAlreadyPastDue() throws {
        let text = """
            workflow: late
            title: 迟到
            params:
              meeting_day: { type: date, title: 日期 }
            steps:
              - { id: a, title: 甲, at: meeting_day + 1 day at 09:00, uses: record, with: { text: 好 } }
              - { id: b, title: 乙, at: meeting_day + 2 days at 09:00, uses: record, with: { text: 好 } }
              - { id: c, title: 丙, at: start + 1 day, uses: record, with: { text: 好 } }

            """
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("late-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let arguments = ["--socket", "/tmp/no-such-daemon.sock", "start", path, "--dry-run", "--param", "meeting_day=2026-01-05"]
        let english = try HuayingBinary.run(arguments)
        #expect(english.status == 0, "\(english.stderr)")
        #expect(english.stdout.components(separatedBy: "[past]").count == 3, "\(english.stdout)")
        #expect(english.stdout.hasSuffix("\n2 step(s) already past due would run at once when started (marked as started after its due time)\n"), "\(english.stdout)")
        let chinese = try HuayingBinary.run(arguments, language: "zh")
        #expect(chinese.stdout.hasSuffix("\n有 2 个步骤已过应办时间，启动后将立即执行（标记为晚于应办时间开始）\n"), "\(chinese.stdout)")
        let json = try HuayingBinary.run(arguments + ["--json"])
        #expect(!json.stdout.contains("past due"), "--json stays the plan's JSON")
        let future = try HuayingBinary.run(Array(arguments.dropLast()) + ["meeting_day=2099-01-05"])
        #expect(!future.stdout.contains("past due"), "\(future.stdout)")
    }

    @Test func handoverInNationalDayIsMovedAndMarked() throws {
        let result = try HuayingBinary.run(["plan", HuayingBinary.packageRoot + "/workflows/election-cycle.yaml", "--param", "unit=huangjue", "--param", "election_day=2026-09-24", "--start", "2026-08-01", "--now", "2026-08-01"])
        #expect(result.status == 0, "\(result.stderr)")
        let handover = result.stdout.split(separator: "\n").first { $0.contains(" handover ") }
        #expect(handover?.contains("2026-10-08 周四 23:59 [moved from 2026-10-04]") == true)
        #expect(handover?.contains("禄市镇·civil-affairs: 杨帆(yangfan)") == true)
        #expect(!result.stdout.contains("[past]"))
    }

    @Test func secondsAndMillisecondsAreShownWhereThereAreSome() throws {
        let text = """
            workflow: meeting
            title: 会议
            params:
              meeting: { type: datetime, title: 开会时间 }
            steps:
              - { id: remind, title: 提醒, at: meeting + 30 seconds, uses: record, with: { text: 好 } }
              - { id: record, title: 记录, at: meeting + 1 day at 09:00, uses: record, with: { text: 好 } }

            """
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("meeting-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let arguments = ["plan", path, "--param", "meeting=2026-12-01T09:00:15.500+08:00", "--start", "2026-11-01", "--now", "2026-11-01"]
        let plain = try HuayingBinary.run(arguments)
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stdout.contains("2026-12-01 周二 09:00:45.500"))
        #expect(plain.stdout.contains("2026-12-02 周三 09:00 "))
        let json = try HuayingBinary.run(arguments + ["--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let due = try (object["steps"] as? [[String: Any]] ?? []).map { try #require($0["due"] as? [String: Any]) }
        #expect(due.map { $0["local"] as? String } == ["2026-12-01T09:00:45.500", "2026-12-02T09:00"])
        #expect(due.map { $0["instant"] as? String } == ["2026-12-01T09:00:45.500+08:00", "2026-12-02T09:00:00+08:00"])
    }

    @Test func missingParameterIsRefusedWithUsageStatus() throws {
        let result = try HuayingBinary.run(["plan", "election-cycle", "--param", "election_day=2026-12-20"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("missing parameter 'unit'"))
    }

    @Test func unknownWorkflowListsTheKnownIds() throws {
        let result = try HuayingBinary.run(["plan", "no-such-flow"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("election-cycle"))
    }
}

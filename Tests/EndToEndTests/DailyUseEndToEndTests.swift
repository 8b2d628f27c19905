import ControlProtocol
import Foundation
import Testing

/// The commands a township office uses every day (agenda, whoami, bulk start, the
/// duplicate refusal), through the real `huaying` against a simulated-clock daemon, in a
/// Chinese and an English locale.
@Suite struct DailyUseEndToEndTests {
    /// A village check: a reminder to the village secretary three days before, acknowledged
    /// within a day or escalated to the township's civil-affairs office; a report two days after.
    static let check = """
        workflow: check
        title: 村务检查
        params:
          unit: { type: unit, title: 村（社区） }
          day: { type: date, title: 检查日 }
        calendar: cn-mainland
        default_time: "09:00"
        steps:
          - id: notify
            title: 通知检查
            at: day - 3 days
            deadline: day at 18:00
            uses: remind
            with: { to: secretary@unit, message: "{{unit.name}}：请准备检查。" }
            ack:
              within: 1 day
              escalate:
                uses: escalate
                with: { chain: [civil-affairs@township], every: 1 day }
          - id: report
            title: 上报结果
            at: day + 2 days
            uses: remind
            with: { to: secretary@unit, message: "请上报检查结果" }
        """

    struct Fixture {
        let site: TestSite
        let daemon: TestDaemon
        let cli: EngineCLI

        /// `huaying --config C --socket S ARGS…` in a locale.
        func run(_ arguments: [String], locale: CLILocale = .english, environment: [String: String] = [:]) throws -> ProgramResult {
            try huaying(["--config", site.configPath, "--socket", site.socketPath] + arguments, locale: locale, environment: environment)
        }

        func json<T: Decodable>(_ type: T.Type, _ arguments: [String]) throws -> T {
            let result = try run(arguments + ["--json"])
            guard result.status == 0 else { throw Failure("huaying \(arguments) exited \(result.status): \(result.stderr)") }
            return try JSONDecoder().decode(T.self, from: Data(result.stdout.utf8))
        }
    }

    /// A daemon on 2026-11-02 (a Monday) with the check for 黄桷村 on 11-09 and 石岭村 on 11-20,
    /// moved on to 11-08 10:00: 黄桷村's notice is overdue and escalated to the township.
    func fixture() throws -> Fixture {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["check.yaml": Self.check])
        let daemon = try simulatedDaemon(site, at: "2026-11-02T08:00+08:00")
        let cli = EngineCLI(socket: site.socketPath)
        let fixture = Fixture(site: site, daemon: daemon, cli: cli)
        _ = try fixture.json(StartResult.self, ["start", "check", "--param", "unit=huangjue", "--param", "day=2026-11-09"])
        _ = try fixture.json(StartResult.self, ["start", "check", "--param", "unit=shiling", "--param", "day=2026-11-20"])
        try cli.setClock("2026-11-08T10:00+08:00")
        return fixture
    }

    @Test func agendaListsWhatIsDueThisWeekAndEverythingOverdueByDate() throws {
        let f = try fixture()
        defer { f.site.remove() }
        let agenda = try f.json(AgendaResult.self, ["agenda"])
        #expect(agenda.items.map { "\($0.unit ?? "-")/\($0.step)" } == ["huangjue/notify", "huangjue/report"],
                "石岭村's notice (11-17) is beyond the 7 days")
        let notify = try #require(agenda.items.first)
        #expect(notify.overdue && notify.escalated && notify.level == 1)
        #expect(Set(notify.assignees).contains("yangfan"), "escalated to the township's civil affairs: \(notify.assignees)")
        #expect(notify.ackBy == "2026-11-07T09:00:00+08:00" && notify.at == notify.ackBy)
        #expect(notify.deadline == "2026-11-09T18:00:00+08:00")
        #expect(notify.unitName == "黄桷村")
        #expect(agenda.items[1].at == "2026-11-11T09:00:00+08:00" && !agenda.items[1].overdue)

        let overdue = try f.json(AgendaResult.self, ["agenda", "--overdue"])
        #expect(overdue.items.map(\.step) == ["notify"])
        let longer = try f.json(AgendaResult.self, ["agenda", "--until", "2026-11-30"])
        #expect(longer.items.map { "\($0.unit ?? "-")/\($0.step)" } == ["huangjue/notify", "huangjue/report", "shiling/notify", "shiling/report"])
        let shiling = try f.json(AgendaResult.self, ["agenda", "--under", "shiling", "--from", "2026-11-15", "--until", "+7d"])
        #expect(shiling.items.map(\.step) == ["notify"])
        // A community secretary of another street sees none of it.
        let other = try f.cli.json(AgendaResult.self, ["agenda"], as: "zhaomin")
        #expect(other.items.isEmpty)

        let chinese = try f.run(["agenda"], locale: .chinese)
        #expect(chinese.status == 0, "\(chinese.stderr)")
        #expect(chinese.stdout.hasPrefix("日期"), "\(chinese.stdout)")
        #expect(chinese.stdout.contains("2026-11-07 周六 09:00") && chinese.stdout.contains("逾期 · 已升级至乡镇"), "\(chinese.stdout)")
        #expect(chinese.stdout.contains("黄桷村") && !chinese.stdout.contains("石岭村"), "\(chinese.stdout)")
        #expect(chinese.stdout.contains("已提醒") || chinese.stdout.contains("待办"), "\(chinese.stdout)")
        let english = try f.run(["agenda"], locale: .english)
        #expect(english.stdout.hasPrefix("DATE"), "\(english.stdout)")
        #expect(english.stdout.contains("overdue · escalated"), "\(english.stdout)")
        #expect(!english.stdout.contains("\u{1B}["), "no colour when piped")
        let empty = try f.run(["agenda", "--under", "qingshan"], locale: .chinese)
        #expect(empty.stdout.contains("没有到期或逾期的事项"), "\(empty.stdout)")
        #expect(try f.run(["agenda", "--until", "someday"]).stderr.contains("[bad_arguments]"))
        #expect(f.daemon.stop() == 0)
    }

    /// The daemon answers 50 instances a page; the CLI pages on and loses nothing.
    @Test func agendaPagesThroughEveryInstance() throws {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["check.yaml": Self.check])
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-11-02T08:00+08:00")
        let f = Fixture(site: site, daemon: daemon, cli: EngineCLI(socket: site.socketPath))
        for _ in 0..<27 {
            let result = try f.run(["start", "check", "--under", "lushi", "--kind", "village", "--param", "day=2026-11-20", "--allow-duplicate"])
            #expect(result.status == 0, "\(result.stderr)")
        }
        let agenda = try f.json(AgendaResult.self, ["agenda", "--until", "2026-11-30"])
        #expect(agenda.items.count == 108 && Set(agenda.items.map(\.instance)).count == 54, "\(agenda.items.count) items")
        #expect(agenda.items.map(\.at) == agenda.items.map(\.at).sorted(), "by date across pages")
        #expect(agenda.nextBefore == nil)
        #expect(daemon.stop() == 0)
    }

    @Test func agendaICSParsesBackWithStableUIDs() throws {
        let f = try fixture()
        defer { f.site.remove() }
        let file = f.site.root.appendingPathComponent("agenda.ics").path
        let result = try f.run(["agenda", "--until", "2026-11-30", "--ics", file], locale: .chinese)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("已写入"))
        let agenda = try f.json(AgendaResult.self, ["agenda", "--until", "2026-11-30"])
        let first = try ICSFile(path: file)
        #expect(first.lines.allSatisfy { $0.utf8.count <= 75 }, "folded at 75 octets")
        #expect(first.calendar["VERSION"] == "2.0")
        #expect(first.events.count == agenda.items.count && agenda.items.count == 4)
        for (event, item) in zip(first.events, agenda.items) {
            #expect(event["UID"] == "huaying-instance-\(item.instance)-step-\(item.step)@huaying")
            #expect(event["DTSTART"] == ICSFile.utc(item.at), "\(event)")
            #expect(event["SUMMARY"]?.contains(item.stepTitle) == true)
        }
        #expect(first.events[0]["SUMMARY"]?.hasPrefix("[已升级至乡镇] [逾期] ") == true, "\(first.events[0])")
        #expect(first.events[0]["DESCRIPTION"]?.contains("法定期限") == true)
        // Exported again after the township acknowledged: the same UIDs, one event fewer.
        let reminder = try #require(agenda.items[0].reminder)
        try f.cli.ack(reminder, as: "yangfan")
        #expect(try f.run(["agenda", "--until", "2026-11-30", "--ics", file]).status == 0)
        let second = try ICSFile(path: file)
        #expect(Set(second.events.compactMap { $0["UID"] }).isSubset(of: Set(first.events.compactMap { $0["UID"] })))
        #expect(second.events.count == 3)
        #expect(f.daemon.stop() == 0)
    }

    @Test func bulkStartStartsOnePerVillageAndRefusesADuplicate() throws {
        // A variant with a defaulted param: the duplicate is judged on the params as given
        // (comparing with the defaults filled in never found one).
        let defaulted = Self.check.replacingOccurrences(of: "workflow: check\n", with: "workflow: check-defaulted\n")
            .replacingOccurrences(of: "  day: { type: date, title: 检查日 }\n",
                                  with: "  day: { type: date, title: 检查日 }\n  review_day: { type: date, title: 复查日, default: day + 7 days }\n")
        #expect(defaulted.contains("review_day") && defaulted.contains("workflow: check-defaulted"))
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["check.yaml": Self.check, "check-defaulted.yaml": defaulted])
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-11-02T08:00+08:00")
        let f = Fixture(site: site, daemon: daemon, cli: EngineCLI(socket: site.socketPath))
        let first = try f.json(StartResult.self, ["start", "check", "--param", "unit=huangjue", "--param", "day=2026-11-09"])

        // The same unit and day again: refused with the running instance named.
        let again = try f.run(["start", "check", "--param", "unit=huangjue", "--param", "day=2026-11-09"], locale: .chinese)
        #expect(again.status == 4)
        #expect(again.stderr.contains("同一单位已有相同参数的运行中实例") && again.stderr.contains("[duplicate_instance]")
                && again.stderr.contains("instance \(first.id)"), "\(again.stderr)")

        let firstDefaulted = try f.json(StartResult.self, ["start", "check-defaulted", "--param", "unit=huangjue", "--param", "day=2026-11-09"])
        let againDefaulted = try f.run(["start", "check-defaulted", "--param", "unit=huangjue", "--param", "day=2026-11-09"])
        #expect(againDefaulted.status == 4 && againDefaulted.stderr.contains("[duplicate_instance]")
                && againDefaulted.stderr.contains("instance \(firstDefaulted.id)"), "\(againDefaulted.stderr)")

        // Dry run: the plans, nothing started.
        let dry = try f.run(["start", "check", "--under", "lushi", "--kind", "village", "--param", "day=2026-11-09", "--dry-run"])
        #expect(dry.status == 0 && dry.stdout.contains("unit = 黄桷村 (huangjue)") && dry.stdout.contains("unit = 石岭村 (shiling)"), "\(dry.stdout)\(dry.stderr)")
        #expect(try f.cli.instances().count == 2)
        #expect(dry.stdout.contains("start 2026-11-02 周一 08:00") && !dry.stdout.contains("[past]"), "planned from the daemon's clock: \(dry.stdout)")

        let bulk = try f.run(["start", "check", "--under", "lushi", "--kind", "village", "--param", "day=2026-11-09"], locale: .chinese)
        #expect(bulk.status == 4, "a refusal among the starts: \(bulk.stdout)\(bulk.stderr)")
        #expect(bulk.stdout.contains("已拒绝  huangjue") && bulk.stdout.contains("已启动  shiling"), "\(bulk.stdout)")
        #expect(bulk.stdout.contains("2 个单位：已启动 1 个，已拒绝 1 个"), "\(bulk.stdout)")
        #expect(try f.cli.instances().count == 3)

        let forced = try f.run(["start", "check", "--under", "lushi", "--kind", "village", "--param", "day=2026-11-09",
                                "--allow-duplicate", "--json"])
        #expect(forced.status == 0, "\(forced.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(forced.stdout.utf8)) as? [String: Any])
        #expect((summary["started"] as? [[String: Any]])?.count == 2 && (summary["refused"] as? [Any])?.isEmpty == true)

        let english = try f.run(["start", "check", "--under", "lushi", "--kind", "village", "--param", "day=2026-11-09"])
        #expect(english.stdout.contains("refused  huangjue") && english.stdout.contains("2 unit(s): 0 started, 2 refused"), "\(english.stdout)")
        #expect(try f.run(["start", "check", "--under", "lushi", "--kind", "planet", "--param", "day=2026-11-09"]).status == 2)

        // Started after its first step was due: counted and said.
        let late = try f.run(["start", "check", "--param", "unit=qingshan", "--param", "day=2026-11-03"], locale: .chinese)
        #expect(late.status == 0 && late.stdout.contains("个步骤启动时已过应办时间，已立即执行"), "\(late.stdout)\(late.stderr)")
        let lateEnglish = try f.run(["start", "check", "--param", "unit=qingshan", "--param", "day=2026-11-04"])
        #expect(lateEnglish.stdout.contains("step(s) already past due ran at once"), "\(lateEnglish.stdout)")
        #expect(daemon.stop() == 0)
    }

    @Test func whoamiNamesTheUserRolesAndUnitsAndHintsAtDashDashAs() throws {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["check.yaml": Self.check])
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-11-02T08:00+08:00")
        let f = Fixture(site: site, daemon: daemon, cli: EngineCLI(socket: site.socketPath))
        let me = try f.json(WhoamiResult.self, ["whoami"])
        #expect(me.admin && me.units == nil)
        let yangfan = try f.cli.json(WhoamiResult.self, ["whoami"], as: "yangfan")
        #expect(yangfan.user == "yangfan" && yangfan.name == "杨帆" && yangfan.inOrgChart)
        #expect(yangfan.roles.map { "\($0.role)@\($0.unit)" } == ["civil-affairs@lushi"] && yangfan.roles.first?.unitName == "禄市镇")

        let chinese = try f.cli.run(["whoami"], as: "yangfan", locale: .chinese)
        #expect(chinese.stdout.contains("用户      yangfan（杨帆）") && chinese.stdout.contains("禄市镇"), "\(chinese.stdout)")
        #expect(chinese.stdout.contains("代 yangfan 操作"), "an admin acting for yangfan is told so: \(chinese.stdout)")
        let english = try f.cli.run(["whoami"], as: "yangfan")
        #expect(english.stdout.contains("user      yangfan") && english.stdout.contains("roles"), "\(english.stdout)")
        // root is not in the example chart: told how to act for a person.
        #expect(!me.inOrgChart)
        #expect(try f.run(["whoami"], locale: .chinese).stdout.contains("--as"))
        #expect(try f.run(["whoami"]).stdout.contains("hint: as root, act for a person with --as USER"))
        #expect(daemon.stop() == 0)
    }
}

/// A small iCalendar reader for the tests: unfolds lines and splits properties.
struct ICSFile {
    var lines: [String]
    var calendar: [String: String] = [:]
    var events: [[String: String]] = []

    init(path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard text.hasSuffix("\r\n"), !text.replacingOccurrences(of: "\r\n", with: "").contains("\n") else {
            throw Failure("lines must end with CRLF")
        }
        lines = text.components(separatedBy: "\r\n").dropLast()
        var unfolded: [String] = []
        for line in lines {
            if line.hasPrefix(" "), !unfolded.isEmpty { unfolded[unfolded.count - 1] += line.dropFirst() } else { unfolded.append(line) }
        }
        var current: [String: String]?
        for line in unfolded {
            guard let colon = line.firstIndex(of: ":") else { throw Failure("not a content line: \(line)") }
            let name = String(line[..<colon].split(separator: ";")[0])
            let value = String(line[line.index(after: colon)...])
                .replacingOccurrences(of: "\\n", with: "\n").replacingOccurrences(of: "\\,", with: ",")
                .replacingOccurrences(of: "\\;", with: ";").replacingOccurrences(of: "\\\\", with: "\\")
            switch (name, value) {
            case ("BEGIN", "VEVENT"): current = [:]
            case ("END", "VEVENT"): if let event = current { events.append(event) }; current = nil
            case ("BEGIN", _), ("END", _): break
            default:
                if current != nil { current?[name] = value } else { calendar[name] = value }
            }
        }
    }

    /// `2026-11-07T09:00:00+08:00` as iCalendar UTC: `20261107T010000Z`.
    static func utc(_ instant: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: isoInstant(instant))
    }
}

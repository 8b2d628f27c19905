import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `make install` / `make uninstall` into a staging directory (DESTDIR), and the installed unit
/// through `systemd-analyze verify`.
///
/// The Makefile installs the binaries this test run already built (`BUILT_BINARIES=`), so no
/// release build happens inside `make test`.
@Suite struct SystemdUnitTests {
    @Test func installPutsEveryFileInPlaceWithItsModeAndNeverOverwritesAnEditedConfig() throws {
        let stage = try StagingDirectory()
        defer { stage.remove() }
        let first = try stage.make("install", "PREFIX=/usr/local")
        #expect(first.status == 0, "make install: \(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("no user created, systemd not told"))

        let shipped = try FileManager.default.contentsOfDirectory(atPath: Repository.path("workflows"))
            .filter { $0.hasSuffix(".yaml") }
        #expect(!shipped.isEmpty)
        var expected: [String: Int] = [
            "usr/local/bin": 0o755, "usr/local/bin/huayingd": 0o755, "usr/local/bin/huaying": 0o755,
            "usr/local/lib/huaying/plugins": 0o755,
            "etc/systemd/system/huayingd.service": 0o644,
            "etc/huaying": 0o755, "etc/huaying/huaying.yaml": 0o644, "etc/huaying/staff.yaml": 0o644,
            "etc/huaying/calendars": 0o755, "etc/huaying/calendars/cn-mainland.yaml": 0o644,
            "etc/huaying/workflows.d": 0o755,
        ]
        for name in shipped { expected["etc/huaying/workflows.d/\(name)"] = 0o644 }
        for notifier in ["wecom", "dingtalk"] {
            let folder = "usr/local/lib/huaying/plugins/\(notifier)"
            expected[folder] = 0o755
            expected["\(folder)/\(notifier)"] = 0o755
            expected["\(folder)/plugin.yaml"] = 0o644
            expected["\(folder)/huaying_notifier.py"] = 0o644
        }
        for page in ["huaying", "huaying-agenda", "huaying-start", "huaying-calendar-add"] {
            expected["usr/local/share/man/man1/\(page).1"] = 0o644
            expected["usr/local/share/man/zh_CN/man1/\(page).1"] = 0o644
        }
        expected["usr/local/share/bash-completion/completions/huaying"] = 0o644
        expected["usr/local/share/zsh/site-functions/_huaying"] = 0o644
        for (path, mode) in expected {
            #expect(stage.mode(path) == mode, "\(path): mode \(stage.mode(path).map { String($0, radix: 8) } ?? "missing")")
        }
        #expect(FileManager.default.contentsEqual(atPath: stage.path("usr/local/bin/huayingd"), andPath: Binaries.path("huayingd")))
        // Man pages and completion come from the commands themselves.
        #expect(try stage.read("usr/local/share/man/man1/huaying-agenda.1").contains(".SH NAME\nhuaying-agenda \\- Everything due or overdue"))
        #expect(try stage.read("usr/local/share/man/zh_CN/man1/huaying-agenda.1").contains("将要到期和已逾期的事项"))
        let bash = try stage.read("usr/local/share/bash-completion/completions/huaying")
        #expect(bash.contains("agenda") && bash.contains("whoami") && bash.contains("--allow-duplicate"))
        let zsh = try stage.read("usr/local/share/zsh/site-functions/_huaying")
        #expect(zsh.hasPrefix("#compdef huaying") && zsh.contains("agenda"))
        #expect(try stage.read("etc/huaying/staff.yaml") == String(contentsOfFile: Repository.path("etc/staff.yaml"), encoding: .utf8))
        #expect(try stage.read("etc/systemd/system/huayingd.service") == String(contentsOfFile: Repository.path("etc/systemd/huayingd.service"), encoding: .utf8),
                "with PREFIX=/usr/local the unit is installed unchanged")

        // The installed config points where the unit's directories are ...
        let installedConfig = try stage.read("etc/huaying/huaying.yaml")
        for setting in ["state_dir: /var/lib/huaying ", "socket: /run/huaying/huaying.sock ",
                        "workflows: /etc/huaying/workflows.d ", "staff: /etc/huaying/staff.yaml ",
                        "calendars: /etc/huaying/calendars ", "plugins: /usr/local/lib/huaying/plugins "] {
            #expect(installedConfig.contains("\n  \(setting)"), "\(setting) in:\n\(installedConfig)")
        }
        // ... and with /etc/huaying moved into the staging tree, `huayingd --check-config` accepts
        // it together with the staff list, calendars and workflows installed beside it.
        let stagedConfig = stage.path("etc/huaying/staged.yaml")
        try installedConfig.replacingOccurrences(of: " /etc/huaying/", with: " \(stage.path("etc/huaying"))/")
            .write(toFile: stagedConfig, atomically: true, encoding: .utf8)
        let check = try runProgram(Binaries.path("huayingd"), ["--check-config", "--config", stagedConfig])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("staff:     \(stage.path("etc/huaying/staff.yaml"))"), "\(check.stdout)")
        try FileManager.default.removeItem(atPath: stagedConfig)

        // Edit the config and the staff list, lose a workflow file; install again.
        let editedConfig = try stage.read("etc/huaying/huaying.yaml").replacingOccurrences(of: "log_level: info", with: "log_level: debug")
        try editedConfig.write(toFile: stage.path("etc/huaying/huaying.yaml"), atomically: true, encoding: .utf8)
        try "# our own org chart\n".write(toFile: stage.path("etc/huaying/staff.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: stage.path("etc/huaying/workflows.d/\(shipped[0])"))
        let second = try stage.make("install", "PREFIX=/usr/local")
        #expect(second.status == 0, "make install: \(second.stdout)\(second.stderr)")
        #expect(try stage.read("etc/huaying/huaying.yaml") == editedConfig)
        #expect(try stage.read("etc/huaying/staff.yaml") == "# our own org chart\n")
        #expect(second.stdout.contains("kept \(stage.path("etc/huaying/huaying.yaml")) (it differs from the shipped etc/huaying.installed.yaml)"),
                "\(second.stdout)")
        #expect(second.stdout.contains("kept \(stage.path("etc/huaying/staff.yaml"))"))
        #expect(stage.mode("etc/huaying/workflows.d/\(shipped[0])") == 0o644, "a missing shipped file is installed again")

        // Uninstall removes what is ours and keeps configuration (and the edits in it).
        let removed = try stage.make("uninstall", "PREFIX=/usr/local")
        #expect(removed.status == 0, "make uninstall: \(removed.stdout)\(removed.stderr)")
        for path in ["usr/local/bin/huayingd", "usr/local/bin/huaying", "etc/systemd/system/huayingd.service",
                     "usr/local/share/man/man1/huaying.1", "usr/local/share/man/zh_CN/man1/huaying-agenda.1",
                     "usr/local/share/bash-completion/completions/huaying", "usr/local/share/zsh/site-functions/_huaying",
                     "usr/local/lib/huaying/plugins", "usr/local/lib/huaying"] {
            #expect(stage.mode(path) == nil, "\(path) must be gone")
        }
        #expect(try stage.read("etc/huaying/huaying.yaml") == editedConfig)
        #expect(stage.mode("etc/huaying/workflows.d/\(shipped[0])") == 0o644)
    }

    @Test func anotherPrefixMovesTheBinariesThePluginsAndTheUnitsExecStart() throws {
        let stage = try StagingDirectory()
        defer { stage.remove() }
        let result = try stage.make("install", "PREFIX=/opt/huaying")
        #expect(result.status == 0, "make install: \(result.stdout)\(result.stderr)")
        #expect(stage.mode("opt/huaying/bin/huayingd") == 0o755)
        #expect(stage.mode("opt/huaying/lib/huaying/plugins") == 0o755)
        #expect(stage.mode("etc/huaying/huaying.yaml") == 0o644, "the configuration stays in /etc/huaying")
        let unit = try stage.read("etc/systemd/system/huayingd.service")
        #expect(unit.contains("\nExecStart=/opt/huaying/bin/huayingd --config /etc/huaying/huaying.yaml\n"))
        #expect(unit.contains("\nExecReload=/bin/sh -c '/opt/huaying/bin/huaying --config /etc/huaying/huaying.yaml reload; [ $$? -le 1 ]'\n"),
                "systemctl reload runs the installed huaying")
        #expect(!unit.contains("/usr/local/bin/"), "no command left pointing at the default PREFIX")
        #expect(try stage.read("etc/huaying/huaying.yaml").contains("plugins: /opt/huaying/lib/huaying/plugins"))
    }

    @Test func installRefusesWithoutBuiltBinaries() throws {
        let stage = try StagingDirectory()
        defer { stage.remove() }
        let result = try stage.make("install", "BUILT_BINARIES=\(stage.path("nothing-here"))")
        #expect(result.status != 0)
        #expect(result.stderr.contains("run 'make release' first"), "\(result.stderr)")
        #expect(stage.mode("usr") == nil, "nothing is installed")
    }

    /// `systemd-analyze verify` on the unit exactly as `make install` writes it, with one honest
    /// substitution: ExecStart= names the binary under DESTDIR (verify checks that the program
    /// exists and is executable, and nothing is installed in the live /usr/local). `--root=`
    /// is no way out: it would also need sysinit.target and /bin/kill inside the staging tree.
    /// verify does not resolve `User=` (systemd does that when it starts the service), so the
    /// huaying user need not exist. Every line verify prints about our unit fails the test;
    /// lines about other units on the machine (their own problems) are reported, not failed.
    @Test func theInstalledUnitPassesSystemdAnalyzeVerify() throws {
        guard let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            Issue.record("systemd-analyze is missing: install the systemd package (`make test` does)")
            return
        }
        let stage = try StagingDirectory()
        defer { stage.remove() }
        let install = try stage.make("install", "PREFIX=/usr/local")
        #expect(install.status == 0, "make install: \(install.stdout)\(install.stderr)")

        let installed = try stage.read("etc/systemd/system/huayingd.service")
        var substitutions = 0
        let lines = installed.components(separatedBy: "\n").map { line -> String in
            guard line.hasPrefix("ExecStart=/usr/local/bin/huayingd ") else { return line }
            substitutions += 1
            return line.replacingOccurrences(of: "ExecStart=/usr/local/bin/", with: "ExecStart=\(stage.path("usr/local/bin"))/")
        }
        #expect(substitutions == 1, "exactly one ExecStart= line")
        let unitDirectory = stage.path("verify")
        try FileManager.default.createDirectory(atPath: unitDirectory, withIntermediateDirectories: true)
        let unitPath = unitDirectory + "/huayingd.service"  // verify names the unit after the file
        try lines.joined(separator: "\n").write(toFile: unitPath, atomically: true, encoding: .utf8)

        let result = try runProgram(analyze, ["verify", unitPath])
        let output = (result.stdout + result.stderr).split(separator: "\n").map(String.init)
        let ours = output.filter { $0.contains("huayingd") || $0.contains(unitDirectory) }
        let others = output.filter { !ours.contains($0) }
        #expect(result.status == 0, "systemd-analyze verify exit \(result.status):\n\(output.joined(separator: "\n"))")
        #expect(ours.isEmpty, "systemd-analyze verify complains about huayingd.service:\n\(ours.joined(separator: "\n"))")
        if !others.isEmpty {
            print("systemd-analyze verify, about other units (not ours, ignored):\n\(others.joined(separator: "\n"))")
        }
    }

    /// The settings the service depends on: losing one in an edit breaks the daemon or its safety.
    @Test func theUnitKeepsTheSettingsTheDaemonReliesOn() throws {
        let unit = try String(contentsOfFile: Repository.path("etc/systemd/huayingd.service"), encoding: .utf8)
        var settings: [String: String] = [:]
        for line in unit.components(separatedBy: "\n") where !line.hasPrefix("#") && !line.hasPrefix("[") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            settings[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        let required = [
            "Type": "notify", "ExecStart": "/usr/local/bin/huayingd --config /etc/huaying/huaying.yaml",
            "ExecReload": "/bin/sh -c '/usr/local/bin/huaying --config /etc/huaying/huaying.yaml reload; [ $$? -le 1 ]'", "WatchdogSec": "30s", "Restart": "on-failure",
            "User": "huaying", "Group": "huaying", "StateDirectory": "huaying", "RuntimeDirectory": "huaying",
            "ConfigurationDirectory": "huaying", "UMask": "0007", "ProtectSystem": "strict",
            "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6", "NoNewPrivileges": "yes", "PrivateTmp": "yes",
        ]
        for (key, value) in required {
            #expect(settings[key] == value, "\(key)=\(settings[key] ?? "(missing)"), expected \(value)")
        }
        // The installed config must put the socket and the state where the unit's directories are.
        let config = try String(contentsOfFile: Repository.path("etc/huaying.installed.yaml"), encoding: .utf8)
        #expect(config.contains("state_dir: /var/lib/huaying "))
        #expect(config.contains("socket: /run/huaying/huaying.sock "))
    }
}

/// Files of this checkout (the Makefile, the shipped workflows).
enum Repository {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static func path(_ relative: String) -> String { root + "/" + relative }
}

/// A DESTDIR for `make install`, removed at the end of the test.
struct StagingDirectory {
    let root: String

    init() throws {
        root = "/tmp/hy-destdir-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    func path(_ relative: String) -> String { root + "/" + relative }

    /// `make -C <checkout> TARGET DESTDIR=<root> BUILT_BINARIES=<this run's binaries> ...`.
    func make(_ target: String, _ variables: String...) throws -> ProgramResult {
        let binaries = URL(fileURLWithPath: Binaries.path("huayingd")).deletingLastPathComponent().path
        let defaults = ["DESTDIR=\(root)", "BUILT_BINARIES=\(binaries)"]
        // Later assignments on make's command line win, so a test may override the defaults.
        return try runProgram("/usr/bin/env", ["make", "--no-print-directory", "-C", Repository.root, target] + defaults + variables)
    }

    /// The permission bits, or nil when nothing is there.
    func mode(_ relative: String) -> Int? {
        var info = stat()
        guard lstat(path(relative), &info) == 0 else { return nil }
        return Int(info.st_mode & 0o7777)
    }

    func read(_ relative: String) throws -> String {
        try String(contentsOfFile: path(relative), encoding: .utf8)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: root)
    }
}

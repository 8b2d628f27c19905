import ControlProtocol
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Smaller wrong answers of the daemon and the CLI, each fixed (issue 9): notes that steer an
/// admin's terminal or spreadsheet, unbounded notes, `--as` someone unknown, a same-size edit of
/// the org chart, a socket group that does not exist.
@Suite struct DaemonHardeningTests {
    private static let hostile = "\u{1B}[2J\u{1B}]0;pwned\u{07}done\u{08}"

    private func ackedDrill() throws -> (TestSite, TestDaemon, EngineCLI, Int) {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["drill.yaml": drillWorkflow])
        let daemon = try simulatedDaemon(site, at: "2026-11-01T09:00+08:00")
        let cli = EngineCLI(socket: site.socketPath)
        let id = try cli.start("drill", ["unit": "guqiao-shequ", "day": "2026-11-10"])
        try cli.setClock("2026-11-05T11:00")
        let notify = try #require(try cli.inbox("zhaomin").first)
        try cli.ack(notify.id, as: "zhaomin", note: Self.hostile)
        return (site, daemon, cli, id)
    }

    @Test func escapeSequencesInANoteAreShownNotObeyed() throws {
        let (site, daemon, cli, id) = try ackedDrill()
        defer { site.remove() }
        for arguments in [["show", "\(id)"], ["audit"], ["audit", "--instance", "\(id)"], ["inbox", "--all"]] {
            let result = try cli.run(arguments, as: arguments[0] == "inbox" ? "zhaomin" : nil)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            #expect(!result.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x08 },
                    "\(arguments) printed a raw control character")
            if arguments[0] != "inbox" {
                #expect(result.stdout.contains("\\x1B[2J"), "\(arguments): the escape is visible instead: \(result.stdout)")
            }
        }
        // --json keeps the note exactly (JSON escapes it).
        let json = try cli.run(["show", "\(id)", "--json"])
        let detail = try JSONDecoder().decode(InstanceDetail.self, from: Data(json.stdout.utf8))
        #expect(detail.steps.contains { $0.note == Self.hostile })
        #expect(daemon.stop() == 0)
    }

    /// Every ledger text starts with the engine's own words (`已确认：…`), so a formula prefix
    /// cannot reach the start of a cell end to end; `CLITextTests` checks the defusing itself.
    @Test func theCSVExportEscapesControlCharactersOfANote() throws {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["drill.yaml": drillWorkflow])
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-11-01T09:00+08:00")
        let cli = EngineCLI(socket: site.socketPath)
        _ = try cli.start("drill", ["unit": "guqiao-shequ", "day": "2026-11-10"])
        try cli.setClock("2026-11-05T11:00")
        let notify = try #require(try cli.inbox("zhaomin").first)
        try cli.ack(notify.id, as: "zhaomin", note: "=HYPERLINK(\"http://evil\",\"ok\")\u{1B}[2J")
        let csv = try cli.run(["audit", "--export", "csv"])
        #expect(csv.status == 0)
        let ack = try #require(csv.stdout.components(separatedBy: "\r\n").first { $0.contains("HYPERLINK") })
        #expect(!ack.contains(",=") && !ack.contains(",\"="), "a formula cell reached the export: \(ack)")
        #expect(ack.contains("\\x1B[2J"), "\(ack)")
        #expect(!csv.stdout.unicodeScalars.contains { $0.value == 0x1B })
        #expect(daemon.stop() == 0)
    }

    @Test func aNoteOverTwoThousandCharactersIsRefusedByName() throws {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["drill.yaml": drillWorkflow])
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-11-01T09:00+08:00")
        let cli = EngineCLI(socket: site.socketPath)
        _ = try cli.start("drill", ["unit": "guqiao-shequ", "day": "2026-11-10"])
        try cli.setClock("2026-11-05T11:00")
        let notify = try #require(try cli.inbox("zhaomin").first)
        let long = try cli.run(["ack", "\(notify.id)", "--note", String(repeating: "长", count: 2001)], as: "zhaomin")
        #expect(long.status == 4)
        #expect(long.stderr.contains("[note_too_long]") && long.stderr.contains("2001 characters"), "\(long.stderr)")
        #expect(try cli.inbox("zhaomin").contains { $0.id == notify.id }, "the reminder is still open")
        let fits = try cli.run(["ack", "\(notify.id)", "--note", String(repeating: "长", count: 2000)], as: "zhaomin")
        #expect(fits.status == 0, "\(fits.stderr)")
        #expect(daemon.stop() == 0)
    }

    /// A value recorded with an acknowledgement (`--set`) had no cap but the request size: 1 MiB
    /// of text in one ledger row.
    @Test func anAcknowledgementValueOverTwoThousandCharactersIsRefusedByName() throws {
        let workflow = drillWorkflow.replacingOccurrences(of: "    ack:\n", with: "    ack:\n      fields: [minutes]\n")
        #expect(workflow != drillWorkflow, "the drill's acknowledged steps declare a field")
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["drill.yaml": workflow])
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-11-01T09:00+08:00")
        let cli = EngineCLI(socket: site.socketPath)
        _ = try cli.start("drill", ["unit": "guqiao-shequ", "day": "2026-11-10"])
        try cli.setClock("2026-11-05T11:00")
        let notify = try #require(try cli.inbox("zhaomin").first)
        let long = try cli.run(["ack", "\(notify.id)", "--set", "minutes=" + String(repeating: "记", count: 2001)], as: "zhaomin")
        #expect(long.status == 4)
        #expect(long.stderr.contains("[bad_field]") && long.stderr.contains("'minutes' has 2001 characters"), "\(long.stderr)")
        #expect(try cli.inbox("zhaomin").contains { $0.id == notify.id }, "the reminder is still open")
        let fits = try cli.run(["ack", "\(notify.id)", "--set", "minutes=" + String(repeating: "记", count: 2000)], as: "zhaomin")
        #expect(fits.status == 0, "\(fits.stderr)")
        #expect(daemon.stop() == 0)
    }

    @Test func actingAsSomeoneNotInTheOrgChartIsRefused() throws {
        let site = try TestSite(checkoutWorkflows: ["election-cycle.yaml"])
        defer { site.remove() }
        let daemon = try TestDaemon(site: site)
        let result = try huaying(["--socket", site.socketPath, "--as", "nosuchuser", "inbox"])
        #expect(result.status == 4)
        #expect(result.stderr.contains("[unknown_user]") && result.stderr.contains("nosuchuser"), "\(result.stderr)")
        #expect(try huaying(["--socket", site.socketPath, "--as", "zhaomin", "inbox"]).status == 0)
        #expect(daemon.stop() == 0)
    }

    /// Rewrites the site's staff.yaml in place with `old` replaced by `new`, of the same size.
    /// - Returns: the new text.
    @discardableResult
    static func editStaffKeepingItsSize(_ site: TestSite, _ old: String, _ new: String) throws -> String {
        let staff = site.root.appendingPathComponent("etc/staff.yaml").path
        let before = try String(contentsOfFile: staff, encoding: .utf8)
        let after = before.replacingOccurrences(of: old, with: new)
        #expect(after != before && after.utf8.count == before.utf8.count)
        try after.write(toFile: staff, atomically: false, encoding: .utf8)
        return after
    }

    @Test func anOrgChartEditThatKeepsTheFileSizeIsPickedUpByReload() throws {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["drill.yaml": drillWorkflow])
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-11-01T09:00+08:00")
        let cli = EngineCLI(socket: site.socketPath)
        // The community's secretary changes hands: same length, far past the first 80 bytes.
        try Self.editStaffKeepingItsSize(site, "user: zhaomin\n", "user: zhaomix\n")
        let reload = try cli.run(["reload"])
        #expect(reload.status == 0, "\(reload.stderr)")

        _ = try cli.start("drill", ["unit": "guqiao-shequ", "day": "2026-11-10"])
        try cli.setClock("2026-11-05T11:00")
        #expect(try cli.inbox("zhaomix").contains { $0.step == "notify" }, "the new secretary gets the reminder")
        #expect(try cli.run(["inbox"], as: "zhaomin").stderr.contains("[unknown_user]"), "the old one is no longer in the chart")
        #expect(daemon.stop() == 0)
    }

    /// A broken edit that keeps the size is reported too (it was neither applied nor reported),
    /// here through SIGHUP as `systemctl reload` sends it; the last good chart stays in force.
    @Test func aBrokenOrgChartEditThatKeepsTheFileSizeIsReportedOnSIGHUP() throws {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["drill.yaml": drillWorkflow])
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-11-01T09:00+08:00")
        let cli = EngineCLI(socket: site.socketPath)
        let after = try Self.editStaffKeepingItsSize(site, "  - user: zhaomin\n", "  - usr:  zhaomin\n")
        let line = after.components(separatedBy: "\n").firstIndex { $0.contains("usr:  zhaomin") }.map { $0 + 1 } ?? 0
        kill(daemon.process.processIdentifier, SIGHUP)
        #expect(poll(seconds: 10) { daemon.log.contains("staff.yaml:\(line):") }, "the finding at staff.yaml:\(line) is in the log: \(daemon.log.suffix(2000))")
        #expect(try cli.run(["inbox"], as: "zhaomin").status == 0, "the last good chart, with zhaomin, stays in force")
        #expect(daemon.stop() == 0)
    }

    /// An admin group that does not exist makes nobody but root and the daemon's user an
    /// admin, silently: `--check-config` says so (and still passes: the daemon would run).
    @Test func checkConfigWarnsOfAnAdminGroupThatDoesNotExist() throws {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["drill.yaml": drillWorkflow])
        defer { site.remove() }
        var config = try String(contentsOfFile: site.configPath, encoding: .utf8)
        config += "\naccess:\n  admin_group: hy-no-such-admins\n"
        try config.write(toFile: site.configPath, atomically: true, encoding: .utf8)
        let line = config.components(separatedBy: "\n").firstIndex { $0.contains("admin_group") }.map { $0 + 1 } ?? 0
        let result = try runProgram(Binaries.path("huayingd"), ["--config", site.configPath, "--check-config"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("\(site.configPath):\(line):3: warning: access.admin_group 'hy-no-such-admins' is not a group"), "\(result.stderr)")
        #expect(result.stdout.contains("configuration is valid"))
    }

    @Test func checkConfigRefusesASocketGroupThatDoesNotExist() throws {
        let site = try TestSite()
        defer { site.remove() }
        var config = try String(contentsOfFile: site.configPath, encoding: .utf8)
        config += "\naccess:\n  socket_group: hy-no-such-group\n"
        try config.write(toFile: site.configPath, atomically: true, encoding: .utf8)
        let line = config.components(separatedBy: "\n").firstIndex { $0.contains("socket_group") }.map { $0 + 1 } ?? 0
        let result = try runProgram(Binaries.path("huayingd"), ["--config", site.configPath, "--check-config"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(site.configPath):\(line):3: access.socket_group 'hy-no-such-group' is not a group"), "\(result.stderr)")
    }
}

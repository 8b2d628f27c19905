import Foundation
import Testing

/// `huayingd --check-config` and start-up with a broken config file.
@Suite struct ConfigCheckTests {
    @Test func checkConfigAcceptsAValidFileAndStartsNothing() throws {
        let site = try TestSite(checkoutWorkflows: ["election-cycle.yaml"])
        defer { site.remove() }
        let result = try runProgram(Binaries.path("huayingd"), ["--config", site.configPath, "--check-config"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("configuration is valid"))
        #expect(result.stdout.contains("socket:    \(site.socketPath)"))
        #expect(!FileManager.default.fileExists(atPath: site.stateDirectory), "checking must not create state")
    }

    @Test func checkConfigAlsoChecksWorkflowsStaffAndCalendars() throws {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["bad.yaml": "workflow: bad\ntitle: x\nsteps:\n  - id: a\n    title: A\n    uses: sms\n"])
        defer { site.remove() }
        let result = try runProgram(Binaries.path("huayingd"), ["--config", site.configPath, "--check-config"])
        #expect(result.status == 2)
        let bad = site.root.appendingPathComponent("workflows/bad.yaml").path
        #expect(result.stderr.contains("huayingd: \(bad):6:11: error: unknown plugin 'sms' in 'uses'"), "\(result.stderr)")
        #expect(result.stderr.contains("1 error(s) in staff, calendars or workflows"))
        #expect(!result.stdout.contains("configuration is valid"), "said before the checks ran: \(result.stdout)")
    }

    /// A finding quotes the file ("\e[2J" is valid YAML): shown escaped on huayingd's stderr too.
    @Test func checkConfigShowsAnEscapeInAFindingEscaped() throws {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["bad.yaml": "workflow: bad\ntitle: x\nsteps:\n  - id: a\n    title: A\n    uses: \"\\e[2J\"\n"])
        defer { site.remove() }
        let result = try runProgram(Binaries.path("huayingd"), ["--config", site.configPath, "--check-config"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("error: unknown plugin '\\x1B[2J' in 'uses'"), "\(result.stderr)")
        #expect(!result.stderr.unicodeScalars.contains { $0.value == 0x1B })
    }

    @Test func aBrokenConfigNamesTheKeyAndPositionAndExits2() throws {
        let site = try TestSite()
        defer { site.remove() }
        try """
            paths:
              state_dir: ../state
              socket: ../run/huaying.sock
              workflows: ../workflows
              staff: staff.yaml
              calendars: calendars
            log_level: loud
            """.write(toFile: site.configPath, atomically: true, encoding: .utf8)
        for arguments in [["--check-config"], []] {
            let result = try runProgram(Binaries.path("huayingd"), ["--config", site.configPath] + arguments)
            #expect(result.status == 2)
            #expect(result.stderr == "huayingd: \(site.configPath):7:12: error: 'log_level' must be one of trace, debug, info, notice, warning, error, critical; found 'loud'\n")
        }
        #expect(!FileManager.default.fileExists(atPath: site.socketPath))
    }

    @Test func aMissingConfigFileIsNamed() throws {
        let result = try runProgram(Binaries.path("huayingd"), ["--config", "/tmp/hy-missing/huaying.yaml", "--check-config"])
        #expect(result.status == 2)
        #expect(result.stderr == "huayingd: /tmp/hy-missing/huaying.yaml: error: cannot read file: No such file or directory\n")
    }
}

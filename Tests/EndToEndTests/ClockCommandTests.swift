import ControlProtocol
import Foundation
import Testing

/// `clock` refusals (issue 9 items 3 and 18): a request with both `advance` and `set`, and a
/// jump of more than a year without `--yes`.
@Suite struct ClockCommandTests {
    @Test func advanceAndSetTogetherAreRefusedAndAHugeJumpNeedsYes() throws {
        let site = try TestSite(checkoutWorkflows: ["election-cycle.yaml"])
        defer { site.remove() }
        let daemon = try TestDaemon(site: site, extraArguments: ["--simulated-clock", "2026-11-01T09:00+08:00"])
        let client = try ControlClient(socketPath: site.socketPath)
        let both = try client.call(ControlRequest(command: "clock", arguments: [
            "advance": .string("1d"), "set": .string("2026-11-03T09:00"),
        ]))
        #expect(!both.ok && both.error?.code == RefusalCode.badArguments.rawValue, "\(String(describing: both.error))")

        let typo = try huaying(["--socket", site.socketPath, "clock", "set", "2126-11-04T09:00"])
        #expect(typo.status == 4 && typo.stderr.contains("clock_jump_too_large") && typo.stderr.contains("--yes"), "\(typo.stderr)")
        let cli = EngineCLI(socket: site.socketPath)
        #expect(try cli.now() == isoInstant("2026-11-01T09:00:00+08:00"), "the refused jump did not move the clock")
        let meant = try huaying(["--socket", site.socketPath, "clock", "advance", "400d", "--yes"])
        #expect(meant.status == 0, "\(meant.stderr)")
        #expect(try cli.now() == isoInstant("2027-12-06T09:00:00+08:00"))
        #expect(daemon.stop() == 0)
    }
}

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Robots named by the org chart are checked against the secrets file at every reload. The
/// check ran before the reload read the new chart, so a robot the edit added was reported only
/// at the reload after (and one the edit removed, once too often).
@Suite struct ChatRobotReloadTests {
    @Test func aRobotTheNewOrgChartNamesIsCheckedInTheReloadThatReadsIt() throws {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["drill.yaml": drillWorkflow])
        defer { site.remove() }
        let secrets = site.root.appendingPathComponent("etc/secrets.yaml").path
        try "robots:\n  guqiao-wecom:\n    plugin: wecom\n    env: { HUAYING_WECOM_KEY: k }\n".write(toFile: secrets, atomically: true, encoding: .utf8)
        #expect(chmod(secrets, 0o600) == 0)
        var config = try String(contentsOfFile: site.configPath, encoding: .utf8)
        config = config.replacingOccurrences(of: "  calendars: calendars\n", with: "  calendars: calendars\n  secrets: secrets.yaml\n")
        try config.write(toFile: site.configPath, atomically: true, encoding: .utf8)
        let daemon = try simulatedDaemon(site, at: "2026-11-01T09:00+08:00")
        #expect(!daemon.log.contains("chat robot not defined"), "the shipped chart names no robot")

        let staffPath = site.root.appendingPathComponent("etc/staff.yaml").path
        let staff = try String(contentsOfFile: staffPath, encoding: .utf8)
        let line = "{ id: guqiao,           name: 古桥街道,     kind: street,    parent: huaying }"
        #expect(staff.contains(line))
        try staff.replacingOccurrences(of: line, with: "{ id: guqiao, name: 古桥街道, kind: street, parent: huaying, notify: [guqiao-dingtalk] }")
            .write(toFile: staffPath, atomically: true, encoding: .utf8)
        let reload = try huaying(["--socket", site.socketPath, "reload"])
        #expect(reload.status == 0, "\(reload.stderr)")
        #expect(daemon.log.contains("chat robot not defined") && daemon.log.contains("robot 'guqiao-dingtalk'"),
                "the reload that read the chart reports its unknown robot: \(daemon.log.suffix(1500))")
        #expect(daemon.stop() == 0)
    }
}

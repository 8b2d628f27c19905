import ControlProtocol
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Workflow files dropped into, changed in and removed from the workflows folder of a running
/// daemon, and files added while it was stopped.
@Suite struct HotReloadEndToEndTests {
    static let notice = """
        workflow: notice
        title: 通知
        params:
          unit: { type: unit, title: 社区 }
        steps:
          - id: remind
            title: 请确认
            uses: remind
            with: { to: secretary@unit, message: "{{unit.name}}：请确认。" }
        """

    private func workflows(_ daemon: TestDaemon) throws -> WorkflowsResult {
        let result = try huaying(["--socket", daemon.socketPath, "workflows", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONDecoder().decode(WorkflowsResult.self, from: Data(result.stdout.utf8))
    }

    /// Waits (real time, at most 10 s) until the daemon's file watch has reloaded what the
    /// test wrote. This waits for inotify and the 300 ms settle delay, not for a workflow timer.
    private func waitFor(_ daemon: TestDaemon, _ condition: (WorkflowsResult) -> Bool) throws -> WorkflowsResult {
        var last: WorkflowsResult?
        try poll(seconds: 10, every: 50_000) {
            last = try workflows(daemon)
            return condition(last!)
        }
        return last!
    }

    @Test func aDroppedFileIsStartableWithoutARestart() throws {
        let site = try TestSite(checkoutWorkflows: [])
        defer { site.remove() }
        let daemon = try TestDaemon(site: site)
        #expect(try workflows(daemon).workflows.isEmpty)
        // Written the way editors and `install` do: a temporary name, then a rename.
        let folder = site.root.appendingPathComponent("workflows")
        try Self.notice.write(to: folder.appendingPathComponent(".notice.yaml.tmp"), atomically: false, encoding: .utf8)
        #expect(rename(folder.appendingPathComponent(".notice.yaml.tmp").path, folder.appendingPathComponent("notice.yaml").path) == 0)
        let loaded = try waitFor(daemon) { $0.workflows.contains { $0.id == "notice" } }
        #expect(loaded.workflows.map(\.id) == ["notice"])
        let start = try huaying(["--socket", site.socketPath, "start", "notice", "--param", "unit=guqiao-shequ"])
        #expect(start.status == 0, "\(start.stderr)")
        #expect(daemon.log.contains("trigger=\"file change\""))
        #expect(daemon.stop() == 0)
    }

    @Test func aBrokenFileShowsItsErrorsWhileThePreviousVersionKeepsWorking() throws {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["notice.yaml": Self.notice])
        defer { site.remove() }
        let daemon = try TestDaemon(site: site)
        let good = try #require(try workflows(daemon).workflows.first?.currentVersion)
        let file = site.root.appendingPathComponent("workflows/notice.yaml")
        try Self.notice.replacingOccurrences(of: "uses: remind", with: "uses: remnid").write(to: file, atomically: true, encoding: .utf8)
        let after = try waitFor(daemon) { !$0.loadErrors.isEmpty }
        #expect(after.loadErrors.first?.messages == ["\(file.path):8:11: error: unknown plugin 'remnid' in 'uses'; expected one of: escalate, record, remind"])
        #expect(after.workflows.first?.currentVersion == good)
        let human = try huaying(["--socket", site.socketPath, "workflows"])
        #expect(human.stdout.contains("files not loaded (the last good version stays in force):"))
        #expect(try huaying(["--socket", site.socketPath, "start", "notice", "--param", "unit=guqiao-shequ"]).status == 0)
        #expect(daemon.log.contains("workflow file not loaded: \(file.path):8:11"))
        #expect(daemon.stop() == 0)
    }

    @Test func aReplacedFileLeavesRunningInstancesOnTheirVersion() throws {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["notice.yaml": Self.notice])
        defer { site.remove() }
        let daemon = try TestDaemon(site: site)
        let socket = ["--socket", site.socketPath]
        let first = try huaying(socket + ["start", "notice", "--param", "unit=guqiao-shequ", "--json"])
        let firstID = try JSONDecoder().decode(StartResult.self, from: Data(first.stdout.utf8)).id
        let original = try workflows(daemon).workflows.first?.currentVersion
        try Self.notice.replacingOccurrences(of: "title: 通知", with: "title: 通知（修订）")
            .write(to: site.root.appendingPathComponent("workflows/notice.yaml"), atomically: true, encoding: .utf8)
        // SIGHUP reloads at once, as `systemctl reload` does.
        kill(daemon.process.processIdentifier, SIGHUP)
        let after = try waitFor(daemon) { $0.workflows.first?.currentVersion != original }
        #expect(daemon.log.contains("SIGHUP received"))
        let second = try huaying(socket + ["start", "notice", "--param", "unit=guqiao-shequ", "--allow-duplicate", "--json"])
        let secondID = try JSONDecoder().decode(StartResult.self, from: Data(second.stdout.utf8)).id
        let old = try JSONDecoder().decode(InstanceDetail.self, from: Data(try huaying(socket + ["show", "\(firstID)", "--json"]).stdout.utf8))
        let new = try JSONDecoder().decode(InstanceDetail.self, from: Data(try huaying(socket + ["show", "\(secondID)", "--json"]).stdout.utf8))
        #expect(old.title == "通知")
        #expect(new.title == "通知（修订）")
        #expect(old.version != new.version)
        #expect(new.version == after.workflows.first?.currentVersion)
        let inUse = try workflows(daemon).workflows.first?.versionsInUse ?? [:]
        #expect(inUse == [old.version: 1, new.version: 1])
        #expect(daemon.stop() == 0)
    }

    @Test func aFileAddedWhileTheDaemonWasStoppedIsLoadedAtStart() throws {
        let site = try TestSite(checkoutWorkflows: [])
        defer { site.remove() }
        let first = try TestDaemon(site: site)
        #expect(first.stop() == 0)
        try Self.notice.write(to: site.root.appendingPathComponent("workflows/notice.yaml"), atomically: true, encoding: .utf8)
        let second = try TestDaemon(site: site)
        #expect(try workflows(second).workflows.map(\.id) == ["notice"])
        #expect(second.stop() == 0)
    }
}

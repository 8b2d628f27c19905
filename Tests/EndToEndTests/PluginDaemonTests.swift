import ControlProtocol
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// External plugins in a running daemon, driven through the real `huaying`.
@Suite(.serialized) struct PluginDaemonTests {
    /// A plugin that fails while a file `broken` exists in its cwd (the state directory).
    static let plugin = """
        #!/usr/bin/python3
        import json, os, sys
        req = json.load(sys.stdin)
        if os.path.exists("broken"):
            print(json.dumps({"status": "failed", "reason": "网关拒绝"}))
        else:
            print(json.dumps({"status": "completed", "output": {"message_id": req["idempotency_key"]}}))
        """

    static func install(_ site: TestSite, name: String = "sms") throws {
        let folder = site.root.appendingPathComponent("plugins/\(name)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try "name: \(name)\nversion: 1.0.0\nprotocol: 1\nexecutable: run.py\n".write(toFile: folder + "/plugin.yaml", atomically: true, encoding: .utf8)
        try Self.plugin.write(toFile: folder + "/run.py", atomically: true, encoding: .utf8)
        #expect(chmod(folder + "/run.py", 0o755) == 0)
    }

    static func status(_ site: TestSite) throws -> [String: Int] {
        let answer = try huaying(["--config", site.configPath, "status", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(answer.stdout.utf8)) as? [String: Any]
        return object?["counts"] as? [String: Int] ?? [:]
    }

    static func wait(_ what: String, seconds: Double = 30, until condition: () throws -> Bool) throws {
        guard try poll(seconds: seconds, every: 50_000, until: condition) else { throw Failure("timed out waiting for \(what)") }
    }

    @Test func aStepThatFailedForGoodIsRetriedByAnAdminThroughTheCLI() throws {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["notify-sms.yaml": OutboxCrashTests.workflow])
        defer { site.remove() }
        try Self.install(site)
        try FileManager.default.createDirectory(atPath: site.stateDirectory, withIntermediateDirectories: true)
        try "".write(toFile: site.stateDirectory + "/broken", atomically: true, encoding: .utf8)
        let daemon = try TestDaemon(site: site)
        let started = try huaying(["--config", site.configPath, "start", "notify-sms", "--param", "unit=guqiao-shequ", "--json"])
        #expect(started.status == 0, "\(started.stderr)")
        try Self.wait("the failure") { try Self.status(site)["outbox_failed"] == 1 }
        #expect(try Self.status(site)["plugin_failures"] == 1)
        let inbox = try huaying(["--config", site.configPath, "inbox", "--json"])
        #expect(inbox.stdout.contains("huaying retry 1 send"), "the admins are told: \(inbox.stdout)")

        try FileManager.default.removeItem(atPath: site.stateDirectory + "/broken")
        let retry = try huaying(["--config", site.configPath, "retry", "1", "send"])
        #expect(retry.status == 0, "\(retry.stderr)")
        try Self.wait("the retried step") {
            let show = try huaying(["--config", site.configPath, "show", "1", "--json"])
            return show.stdout.contains("\"state\" : \"completed\"") || show.stdout.contains("\"state\":\"completed\"")
        }
        let audit = try huaying(["--config", site.configPath, "audit", "--instance", "1", "--json"])
        #expect(audit.stdout.contains("step.retried"))
        #expect(audit.stdout.contains("1/send/2"), "the retry is a new effect with a new key")
        let again = try huaying(["--config", site.configPath, "retry", "1", "send"])
        #expect(again.status == 4)
        #expect(again.stderr.contains("[not_failed]"), "\(again.stderr)")
        #expect(daemon.stop() == 0)
    }

    @Test func aPluginAddedWhileTheDaemonRunsIsLoadedAndItsWorkflowWithIt() throws {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["notify-sms.yaml": OutboxCrashTests.workflow])
        defer { site.remove() }
        try FileManager.default.createDirectory(atPath: site.root.appendingPathComponent("plugins").path, withIntermediateDirectories: true)
        let daemon = try TestDaemon(site: site)
        let before = try huaying(["--config", site.configPath, "workflows", "--json"])
        #expect(before.stdout.contains("unknown plugin 'sms'"), "\(before.stdout)")
        try Self.install(site)
        try Self.wait("the plugin and the workflow to load") {
            try huaying(["--config", site.configPath, "workflows", "--json"]).stdout.contains("\"id\" : \"notify-sms\"")
                || huaying(["--config", site.configPath, "workflows", "--json"]).stdout.contains("\"id\":\"notify-sms\"")
        }
        #expect(try Self.status(site)["plugins_loaded"] == 1)
        #expect(daemon.log.contains("plugin loaded"))
        #expect(daemon.stop() == 0)
    }
}

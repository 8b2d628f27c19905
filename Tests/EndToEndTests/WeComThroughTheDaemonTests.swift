import Foundation
import HuayingTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A reminder reaches a (local, test) 企业微信 endpoint through the daemon's outbox and the
/// shipped wecom notifier: staff.yaml's notify:, the secrets file, the manifest's env.
@Suite(.serialized) struct WeComThroughTheDaemonTests {
    static let workflow = """
        workflow: meeting-notice
        title: 会议通知
        params:
          unit: { type: unit, title: 社区 }
        calendar: cn-mainland
        steps:
          - id: notify
            title: 发出会议通知
            uses: remind
            urgent: true
            with: { to: secretary@unit, message: "{{unit.name}}：请发出周五会议通知。" }
        """

    @Test func aReminderIsPostedToTheUnitsWeComRobot() throws {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["meeting.yaml": Self.workflow])
        defer { site.remove() }
        let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let folder = site.root.appendingPathComponent("plugins/wecom").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (from, to) in [("notifiers/wecom/plugin.yaml", "plugin.yaml"), ("notifiers/wecom/wecom", "wecom"), ("notifiers/huaying_notifier.py", "huaying_notifier.py")] {
            try FileManager.default.copyItem(atPath: checkout + "/" + from, toPath: folder + "/" + to)
        }
        #expect(chmod(folder + "/wecom", 0o755) == 0 && chmod(folder + "/plugin.yaml", 0o644) == 0)

        let robot = try RobotServer()
        defer { robot.stop() }

        let staffPath = site.root.appendingPathComponent("etc/staff.yaml").path
        let staff = try String(contentsOfFile: staffPath, encoding: .utf8)
        let line = "{ id: guqiao,           name: 古桥街道,     kind: street,    parent: huaying }"
        #expect(staff.contains(line))
        try staff.replacingOccurrences(of: line, with: "{ id: guqiao, name: 古桥街道, kind: street, parent: huaying, notify: [guqiao-wecom] }")
            .write(toFile: staffPath, atomically: true, encoding: .utf8)
        let secrets = site.root.appendingPathComponent("etc/secrets.yaml").path
        try """
            robots:
              guqiao-wecom:
                plugin: wecom
                env:
                  HUAYING_WECOM_KEY: test-key-1
                  HUAYING_WECOM_URL: \(robot.baseURL)
            """.write(toFile: secrets, atomically: true, encoding: .utf8)
        #expect(chmod(secrets, 0o600) == 0)
        var config = try String(contentsOfFile: site.configPath, encoding: .utf8)
        config = config.replacingOccurrences(of: "  calendars: calendars\n", with: "  calendars: calendars\n  secrets: secrets.yaml\n")
        config += "\nnotifications:\n  digest_window: 0\n"
        try config.write(toFile: site.configPath, atomically: true, encoding: .utf8)

        let daemon = try TestDaemon(site: site)
        let started = try huaying(["--config", site.configPath, "start", "meeting-notice", "--param", "unit=guqiao-shequ"])
        #expect(started.status == 0, "\(started.stderr)")
        let object = try #require(try robot.waitForRequests(1).first)
        #expect(object["path"] as? String == "/cgi-bin/webhook/send")
        #expect(object["query"] as? String == "key=test-key-1")
        let body = try #require(object["body"] as? [String: Any])
        #expect(body["msgtype"] as? String == "text")
        let text = try #require(body["text"] as? [String: Any])
        let content = try #require(text["content"] as? String)
        #expect(content.contains("古桥社区：请发出周五会议通知。"), "\(content)")
        #expect(content.contains("huaying ack 1"), "\(content)")
        #expect((text["mentioned_mobile_list"] as? [String]) == ["13800000002"], "赵敏 is @mentioned by her mobile")
        #expect(daemon.stop() == 0)
    }
}

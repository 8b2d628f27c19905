import Foundation
import HuayingTestSupport
import Testing

/// `huaying plugins` and `huaying lint` with a plugins folder holding a good and a broken plugin.
@Suite struct PluginsCommandTests {
    static func site() throws -> (config: String, root: String) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("huaying-cli-\(UUID().uuidString)").path
        for name in ["sms", "fax", "workflows"] {
            try FileManager.default.createDirectory(atPath: root + (name == "workflows" ? "/workflows" : "/plugins/\(name)"), withIntermediateDirectories: true)
        }
        try "name: sms\nversion: 1.2.0\nprotocol: 1\nexecutable: run\n".write(toFile: root + "/plugins/sms/plugin.yaml", atomically: true, encoding: .utf8)
        try "name: fax\nversion: 0.1\nprotocol: 1\nexecutable: run\ntimeout: soon\n".write(toFile: root + "/plugins/fax/plugin.yaml", atomically: true, encoding: .utf8)
        for name in ["sms", "fax"] {
            try "#!/bin/sh\n".write(toFile: root + "/plugins/\(name)/run", atomically: true, encoding: .utf8)
            chmod(root + "/plugins/\(name)/run", 0o755)
        }
        try """
            workflow: fax-notice
            title: 传真通知
            steps:
              - { id: send, title: 发送, uses: fax, with: { to: "010" } }
            """.write(toFile: root + "/workflows/fax.yaml", atomically: true, encoding: .utf8)
        let config = root + "/huaying.yaml"
        try """
            paths:
              state_dir: state
              socket: huaying.sock
              workflows: workflows
              plugins: plugins
              staff: \(HuayingBinary.packageRoot)/etc/staff.yaml
              calendars: \(HuayingBinary.packageRoot)/etc/calendars
            time_zone: Asia/Shanghai

            """.write(toFile: config, atomically: true, encoding: .utf8)
        return (config, root)
    }

    @Test func pluginsListsBuiltInsAndTheBrokenManifestWithItsError() throws {
        let (config, root) = try Self.site()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let json = try HuayingBinary.run(["plugins", "--json"], config: config)
        #expect(json.status == 1, "a broken plugin is a failure for scripts")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let plugins = try #require(object["plugins"] as? [[String: Any]])
        #expect(plugins.map { $0["name"] as? String } == ["escalate", "record", "remind", "fax", "sms"])
        #expect(plugins.map { $0["usable"] as? Bool } == [true, true, true, false, true])
        #expect(plugins[4]["version"] as? String == "1.2.0")
        #expect(plugins[0]["source"] as? String == "built-in")
        let problems = try #require(plugins[3]["problems"] as? [String])
        #expect(problems.count == 1)
        #expect(problems.first?.hasSuffix("plugins/fax/plugin.yaml:5:10: error: 'timeout' must be a number of seconds or a duration such as '30 seconds' or '2 minutes' (at most a day); found 'soon'") == true, "\(problems)")

        let text = try HuayingBinary.run(["plugins"], config: config)
        #expect(text.stdout.contains("fax:\n"))
        #expect(text.stdout.contains("'timeout' must be a number of seconds"))
        #expect(text.stdout.contains("unusable"))
    }

    /// A problem quotes the manifest: a terminal escape in it is shown as text, not obeyed.
    @Test func aManifestProblemQuotingAnEscapeIsShownEscaped() throws {
        let (config, root) = try Self.site()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "name: fax\nversion: 0.1\nprotocol: 1\nexecutable: run\ntimeout: \"\\e[2J\\a\"\n".write(toFile: root + "/plugins/fax/plugin.yaml", atomically: true, encoding: .utf8)
        let text = try HuayingBinary.run(["plugins"], config: config)
        #expect(text.stdout.contains("found '\\x1B[2J\\x07'"), "\(text.stdout)")
        #expect(!text.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 })
    }

    @Test func lintFailsAStepThatUsesTheBrokenPlugin() throws {
        let (config, root) = try Self.site()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let lint = try HuayingBinary.run(["lint"], config: config)
        #expect(lint.status == 1)
        #expect(lint.stdout.contains("workflows/fax.yaml:4:34: error: plugin 'fax' cannot be used: "), "\(lint.stdout)")
        #expect(lint.stdout.contains("plugins/fax/plugin.yaml:5:10: error: 'timeout' must be"), "\(lint.stdout)")
    }
}

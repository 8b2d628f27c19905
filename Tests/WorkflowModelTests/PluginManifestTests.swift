import Foundation
import Testing
@testable import WorkflowModel

/// External plugins as lint sees them: manifests, the JSON Schema subset, the safety rules.
@Suite struct PluginManifestTests {
    /// A site: a plugins folder, a workflows folder and a config pointing at them.
    struct Site {
        let root: String
        var plugins: String { root + "/plugins" }
        var workflows: String { root + "/workflows" }
        var config: HuayingConfig {
            HuayingConfig(file: root + "/huaying.yaml", stateDirectory: root + "/state", socketPath: root + "/x.sock",
                          workflowsDirectory: workflows, pluginsDirectory: plugins, staffFile: TestPaths.staff,
                          calendarsDirectory: TestPaths.calendars, timeZone: shanghai, logLevel: .info, sqliteSynchronous: .full)
        }

        init() throws {
            root = try Scratch.folder()
            try FileManager.default.createDirectory(atPath: root + "/plugins", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: root + "/workflows", withIntermediateDirectories: true)
        }

        func plugin(_ name: String, manifest: String, mode: mode_t = 0o755) throws {
            let folder = plugins + "/" + name
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            _ = try Scratch.file("plugin.yaml", manifest, in: folder)
            _ = try Scratch.file("run", "#!/bin/sh\necho '{\"status\":\"completed\"}'\n", in: folder)
            chmod(folder + "/run", mode)
        }

        func workflow(_ text: String) throws -> String { try Scratch.file("w.yaml", text, in: workflows) }

        /// Findings with the site's folder cut from the paths.
        func lint() -> [String] {
            Linter.lint(paths: [workflows], config: config).diagnostics.map { $0.description.replacingOccurrences(of: root + "/", with: "") }
        }
    }

    static let sms = "name: sms\nversion: 1.0.0\nprotocol: 1\nexecutable: run\n"

    static func workflow(with: String, uses: String = "sms") -> String {
        """
        workflow: w
        title: 测试
        params:
          unit: { type: unit, title: 社区 }
        steps:
          - id: send
            title: 发送
            uses: \(uses)
            with: \(with)
        """
    }

    @Test func aBrokenManifestIsReportedAtItsLinesAndItsStepsFailLint() throws {
        let site = try Site()
        try site.plugin("sms", manifest: """
            name: sms
            version: 1.0.0
            protocol: 2
            executable: ../escape
            timeout: forever
            colour: red
            input_schema: { type: object, oneOf: [] }
            """)
        _ = try site.workflow(Self.workflow(with: "{ to: x }"))
        #expect(site.lint() == [
            "plugins/sms/plugin.yaml:3:11: error: protocol 2 is not supported; this daemon speaks protocol 1",
            "plugins/sms/plugin.yaml:4:13: error: 'executable' must be a path inside the plugin's folder (relative, without '..'); found '../escape'",
            "plugins/sms/plugin.yaml:5:10: error: 'timeout' must be a number of seconds or a duration such as '30 seconds' or '2 minutes' (at most a day); found 'forever'",
            "plugins/sms/plugin.yaml:6:1: error: unknown key 'colour' in the plugin manifest; expected one of: name, version, protocol, executable, kind, input_schema, timeout, max_attempts, backoff, concurrency, side_effects, env",
            "plugins/sms/plugin.yaml:7:31: error: unknown key 'oneOf' in a JSON schema (not in the supported subset); expected one of: type, properties, required, additionalProperties, enum, items, minLength, maxLength, pattern, minimum, maximum, description, $schema, $id, title, default, examples, $comment",
            "workflows/w.yaml:8:11: error: plugin 'sms' cannot be used: plugins/sms/plugin.yaml:3:11: protocol 2 is not supported; this daemon speaks protocol 1 (and 4 more; see huaying plugins)",
        ])
        let catalog = PluginCatalog.load(directory: site.plugins)
        #expect(catalog.entries.map(\.isUsable) == [false])
    }

    @Test func aWorldWritableExecutableIsRefused() throws {
        let site = try Site()
        try site.plugin("sms", manifest: Self.sms, mode: 0o777)
        let catalog = PluginCatalog.load(directory: site.plugins)
        let entry = try #require(catalog["sms"])
        #expect(!entry.isUsable)
        #expect(entry.problems.map(\.description) == [
            "\(site.plugins)/sms/plugin.yaml:4:13: error: \(site.plugins)/sms/run is group- or world-writable (mode 777); anyone could change what the daemon runs; refused (chmod go-w)",
        ])
        try site.plugin("sms", manifest: Self.sms, mode: 0o755)
        #expect(PluginCatalog.load(directory: site.plugins)["sms"]?.isUsable == true)
    }

    @Test func anExecutableThatLeavesThePluginFolderThroughALinkIsRefused() throws {
        let site = try Site()
        try site.plugin("sms", manifest: Self.sms)
        _ = try Scratch.file("outside", "#!/bin/sh\n", in: site.root)
        chmod(site.root + "/outside", 0o755)
        try FileManager.default.removeItem(atPath: site.plugins + "/sms/run")
        try FileManager.default.createSymbolicLink(atPath: site.plugins + "/sms/run", withDestinationPath: site.root + "/outside")
        let entry = try #require(PluginCatalog.load(directory: site.plugins)["sms"])
        #expect(!entry.isUsable)
        #expect(entry.problems.first?.message.contains("outside the plugin's folder") == true)
    }

    @Test func lintChecksWithAgainstAnExternalPluginsSchema() throws {
        let site = try Site()
        try site.plugin("sms", manifest: Self.sms + """
            input_schema:
              type: object
              required: [to, text]
              additionalProperties: false
              properties:
                to: { type: string, pattern: "^1[0-9]{10}$" }
                text: { type: string, maxLength: 10 }
                count: { type: integer, minimum: 1 }
                level: { enum: [normal, urgent] }
            """)
        _ = try site.workflow(Self.workflow(with: "{ to: \"123\", count: many, level: loud, colour: red }"))
        #expect(site.lint() == [
            "workflows/w.yaml:9:11: error: missing required key 'text' in 'with' of sms; expected keys: to, text, count, level",
            "workflows/w.yaml:9:17: error: 'to' of sms must match the pattern ^1[0-9]{10}$; found '123'",
            "workflows/w.yaml:9:31: error: 'count' of sms must be integer, found 'many'",
            "workflows/w.yaml:9:44: error: 'level' of sms must be one of normal, urgent; found 'loud'",
            "workflows/w.yaml:9:50: error: unknown key 'colour' in 'with' of sms; expected one of: to, text, count, level",
        ])
        try FileManager.default.removeItem(atPath: site.workflows + "/w.yaml")
        _ = try site.workflow(Self.workflow(with: "{ to: \"13800000000\", text: \"{{unit.name}}开会\", count: 2 }"))
        #expect(site.lint() == [], "a template is checked for its names only; it is rendered before the plugin sees it")
    }

    @Test func anUnknownPluginNamesTheLoadedOnes() throws {
        let site = try Site()
        try site.plugin("sms", manifest: Self.sms)
        _ = try site.workflow(Self.workflow(with: "{ to: x }", uses: "fax"))
        #expect(site.lint() == [
            "workflows/w.yaml:8:11: error: unknown plugin 'fax' in 'uses'; expected one of: escalate, record, remind, sms",
        ])
    }

    @Test func theBackoffDoublesFromItsStartUpToItsLimit() throws {
        let file = try YAMLFile(path: "p.yaml", text: Self.sms + "backoff: { initial: 10 seconds, max: 1 minute }\nmax_attempts: 7\ntimeout: 2 minutes\n")
        let manifest = try #require(PluginManifest.parse(file).manifest)
        #expect((1...5).map { manifest.backoffSeconds(afterAttempt: $0) } == [10, 20, 40, 60, 60])
        #expect(manifest.timeoutSeconds == 120)
        #expect(manifest.maxAttempts == 7)
        #expect(manifest.concurrency == 4)
        #expect(manifest.kind == .step)
    }
}

import Foundation
import Testing
@testable import WorkflowModel

@Suite struct HuayingConfigTests {
    private func parse(_ text: String, at path: String = "/etc/huaying/huaying.yaml") throws(DiagnosticsError) -> HuayingConfig {
        let file: YAMLFile
        do { file = try YAMLFile(path: path, text: text) } catch { throw DiagnosticsError([error]) }
        return try HuayingConfig.parse(file, absolutePath: path)
    }

    private func messages(_ text: String) -> [String] {
        do {
            _ = try parse(text)
            return []
        } catch {
            return error.diagnostics.map(\.description)
        }
    }

    @Test func uiLanguageIsReadAndAnUnknownOneIsReportedWhereItStands() throws {
        let base = "paths:\n  state_dir: s\n  socket: s.sock\n  workflows: w\n  staff: staff.yaml\n  calendars: c\n"
        #expect(try parse(base).uiLanguage == nil)
        #expect(try parse(base + "ui:\n  language: zh\n").uiLanguage == .zh)
        #expect(messages(base + "ui:\n  language: fr\n") == ["/etc/huaying/huaying.yaml:8:13: error: 'language' must be one of zh, en; found 'fr'"])
    }

    @Test func theInstalledConfigSpeaksChinese() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent("etc/huaying.installed.yaml").path
        #expect(try HuayingConfig.load(path: path).uiLanguage == .zh)
    }

    @Test func resolvesRelativePathsAgainstTheConfigFolder() throws {
        let config = try parse("""
            paths:
              state_dir: ../var/state
              socket: /run/huaying/huaying.sock
              workflows: workflows.d
              staff: staff.yaml
              calendars: calendars
            time_zone: Asia/Shanghai
            """)
        #expect(config.stateDirectory == "/etc/var/state")
        #expect(config.databasePath == "/etc/var/state/state.db")
        #expect(config.socketPath == "/run/huaying/huaying.sock")
        #expect(config.workflowsDirectory == "/etc/huaying/workflows.d")
        #expect(config.pluginsDirectory == "/etc/huaying/plugins")
        #expect(config.timeZone.identifier == "Asia/Shanghai")
        #expect(config.sqliteSynchronous == .full)
        #expect(config.logLevel == .info)
    }

    @Test func readsLogLevelSynchronousAndAccess() throws {
        let config = try parse("""
            paths: {state_dir: s, socket: s.sock, workflows: w, staff: st.yaml, calendars: c}
            log_level: DEBUG
            sqlite:
              synchronous: normal
            access:
              admin_group: hy-admin
              socket_group: huaying
            """)
        #expect(config.logLevel == .debug)
        #expect(config.sqliteSynchronous == .normal)
        #expect(config.adminGroup == "hy-admin")
        #expect(config.socketGroup == "huaying")
    }

    @Test func reportsEveryBadKeyWithItsPosition() {
        #expect(messages("""
            paths:
              state_dir: s
              socket: s.sock
              workflow: w
              staff: st.yaml
              calendars: c
            time_zone: Mars/Olympus
            sqlite:
              synchronous: sometimes
            """) == [
            "/etc/huaying/huaying.yaml:2:3: error: missing required key 'workflows' in 'paths'",
            "/etc/huaying/huaying.yaml:4:3: error: unknown key 'workflow' in 'paths'; expected one of: state_dir, socket, workflows, plugins, staff, calendars, secrets",
            "/etc/huaying/huaying.yaml:7:12: error: 'time_zone' is not a known time zone: 'Mars/Olympus'; expected an IANA name such as Asia/Shanghai",
            "/etc/huaying/huaying.yaml:9:16: error: 'synchronous' must be one of off, normal, full, extra; found 'sometimes'",
        ])
    }

    @Test func reportsYAMLSyntaxErrorsWithPosition() {
        let found = messages("paths:\n  state_dir: [unclosed\n")
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("/etc/huaying/huaying.yaml:3:1: error: invalid YAML:") == true)
    }

    @Test func reportsUnknownTopLevelKeysAndWrongTypes() {
        #expect(messages("""
            paths: [a, b]
            timezone: UTC
            """) == [
            "/etc/huaying/huaying.yaml:1:8: error: expected a mapping (key: value lines) for 'paths', found a list",
            "/etc/huaying/huaying.yaml:2:1: error: unknown key 'timezone' in the config file; expected one of: paths, time_zone, log_level, sqlite, access, ledger, notifications, ui",
        ])
    }

    @Test func reportsAnEmptyFile() {
        #expect(messages("") == ["/etc/huaying/huaying.yaml:1:1: error: the config file is empty; expected keys: paths, time_zone, log_level, sqlite, access, ledger, notifications, ui"])
    }

    @Test func theShippedDevelopmentConfigIsValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let config = try HuayingConfig.load(path: root.appendingPathComponent("etc/huaying.yaml").path)
        #expect(config.stateDirectory == root.appendingPathComponent("var/state").standardizedFileURL.path)
        #expect(config.socketPath.hasSuffix("/var/run/huaying.sock"))
    }
}

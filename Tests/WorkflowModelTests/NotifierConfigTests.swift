import Foundation
import Testing
@testable import WorkflowModel

/// staff.yaml contacts and notify:, the secrets file, and the notifications: config section.
@Suite struct NotifierConfigTests {
    func chart(_ text: String, path: String = "staff.yaml") throws -> (chart: OrgChart?, messages: [String]) {
        let result = OrgChartFile.check(try YAMLFile(path: path, text: text))
        return (result.chart, result.diagnostics.map(\.description))
    }

    static let staff = """
        roles: { secretary: 党组织书记 }
        units:
          - { id: shi, name: 示例市, kind: city, notify: [city-wecom] }
          - { id: jiedao, name: 示例街道, kind: street, parent: shi, notify: [jiedao-wecom, jiedao-dingtalk] }
          - { id: shequ, name: 示例社区, kind: community, parent: jiedao }
          - { id: cun, name: 示例村, kind: village, parent: jiedao, notify: [] }
          - { id: other, name: 另一街道, kind: street, parent: shi }
        staff:
          - user: zhangsan
            name: 张三
            roles: { shequ: [secretary] }
            mobile: "13800001111"
            wecom_userid: ZhangSan
            dingtalk_userid: manager4711
          - user: lisi
            name: 李四
            roles: { cun: [secretary] }
            mobile: +8613900002222
        """

    @Test func contactsAreReadForMentions() throws {
        let result = try chart(Self.staff)
        #expect(result.messages == [])
        let chart = try #require(result.chart)
        #expect(chart.member(user: "zhangsan")?.contacts == StaffContacts(mobile: "13800001111", wecomUserID: "ZhangSan", dingtalkUserID: "manager4711"))
        #expect(chart.member(user: "lisi")?.contacts == StaffContacts(mobile: "13900002222"), "+86 is dropped")
    }

    @Test func aUnitInheritsTheRobotsOfTheUnitAboveUnlessItSetsItsOwn() throws {
        let chart = try #require(try chart(Self.staff).chart)
        #expect(chart.robots(for: "shequ").map(\.name) == ["jiedao-wecom", "jiedao-dingtalk"])
        #expect(chart.robots(for: "jiedao").map(\.name) == ["jiedao-wecom", "jiedao-dingtalk"])
        #expect(chart.robots(for: "other").map(\.name) == ["city-wecom"])
        #expect(chart.robots(for: "cun").isEmpty, "notify: [] stops the inheritance")
        #expect(chart.robots(for: "nowhere").isEmpty)
        #expect(chart.units["jiedao"]?.notify?.first?.location == SourceLocation(file: "staff.yaml", line: 4, column: 67))
    }

    @Test func badContactsAndRobotNamesArePointedAt() throws {
        let (found, messages) = try chart("""
            roles: { secretary: 党组织书记 }
            units:
              - { id: shi, name: 示例市, kind: city, notify: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x" }
              - { id: jiedao, name: 示例街道, kind: street, parent: shi, notify: [a, a] }
            staff:
              - user: zhangsan
                name: 张三
                roles: { shi: [secretary] }
                mobile: 1380000
                wecom_userid: "Zhang San"
                dingtalk_userid: "@all"
                phone: "13800001111"
            """)
        #expect(found == nil)
        #expect(messages == [
            "staff.yaml:3:47: error: robot name 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x' in 'notify' must be ASCII letters, digits, '-' or '_' (such as guqiao-wecom): the name of a robot in the secrets file, never its key or URL",
            "staff.yaml:4:70: error: robot 'a' is given twice in 'notify'",
            "staff.yaml:9:13: error: 'mobile' of 'zhangsan' must be a mainland mobile number of 11 digits starting with 1 (such as \"13800001111\"); found '1380000'",
            "staff.yaml:10:19: error: 'wecom_userid' of 'zhangsan' must be the person's 企业微信 userid: 1 to 64 ASCII characters without spaces, '<' or '>', and not @all; found 'Zhang San'",
            "staff.yaml:11:22: error: 'dingtalk_userid' of 'zhangsan' must be the person's 钉钉 userId: 1 to 64 ASCII characters without spaces, '<' or '>', and not @all; found '@all'",
            "staff.yaml:12:5: error: unknown key 'phone' in a staff member; expected one of: user, name, roles, mobile, wecom_userid, dingtalk_userid, away",
        ])
    }

    @Test func theShippedChartHasExampleContactsAndNoRobots() throws {
        let chart = try Shipped.chart()
        #expect(chart.member(user: "wanghong")?.contacts == StaffContacts(mobile: "13800000001", wecomUserID: "WangHong"))
        #expect(chart.member(user: "zhaomin")?.contacts == StaffContacts(mobile: "13800000002", dingtalkUserID: "zhaomin-guqiao"))
        #expect(chart.unitOrder.allSatisfy { chart.robots(for: $0).isEmpty }, "the example names no robot: it ships without secrets")
    }

    // MARK: secrets file

    static let secrets = """
        robots:
          jiedao-wecom:
            plugin: wecom
            env:
              HUAYING_WECOM_KEY: 693a91f6-0000-4bc4-97a0-0ec2sifa5aaa
          jiedao-dingtalk:
            plugin: dingtalk
            env:
              HUAYING_DINGTALK_ACCESS_TOKEN: 1d8c0000
              HUAYING_DINGTALK_SECRET: SEC1a2b
        """

    @Test func secretsAreReadAndGivenOnlyAsTheManifestAllows() throws {
        let secrets = try #require(SecretsFile.check(try YAMLFile(path: "secrets.yaml", text: Self.secrets)).secrets)
        #expect(secrets.robots["jiedao-dingtalk"]?.plugin == "dingtalk")
        #expect(secrets.environment(of: "jiedao-dingtalk", allowed: ["HUAYING_DINGTALK_ACCESS_TOKEN"]) == ["HUAYING_DINGTALK_ACCESS_TOKEN": "1d8c0000"])
        #expect(secrets.environment(of: "nobody", allowed: ["HUAYING_WECOM_KEY"]).isEmpty)
        #expect(!String(describing: secrets.robots["jiedao-wecom"]!).contains("693a91f6"), "a robot's description never shows a secret")
    }

    @Test func aNotifyNamingAnUnknownRobotIsAnErrorAtItsPlaceInStaffYaml() throws {
        let chart = try #require(try chart(Self.staff).chart)
        let secrets = try #require(SecretsFile.check(try YAMLFile(path: "secrets.yaml", text: Self.secrets)).secrets)
        #expect(secrets.unknownRobots(in: chart).map(\.description) == [
            "staff.yaml:3:48: error: unit 'shi' notifies robot 'city-wecom', which the secrets file does not define; expected one of: jiedao-dingtalk, jiedao-wecom",
        ])
    }

    @Test func aUnitsRobotsAndRecipientsAreWhatTheRequestCarries() throws {
        let chart = try #require(try chart(Self.staff).chart)
        let secrets = try #require(SecretsFile.check(try YAMLFile(path: "secrets.yaml", text: Self.secrets)).secrets)
        #expect(secrets.robots(for: "shequ", in: chart).map(\.name) == ["jiedao-wecom", "jiedao-dingtalk"])
        #expect(secrets.robots(for: "shequ", in: chart, plugins: ["dingtalk"]).map(\.name) == ["jiedao-dingtalk"])
        #expect(secrets.robots(for: "other", in: chart).isEmpty, "city-wecom is not in the secrets file")
        #expect(chart.member(user: "zhangsan")?.notifierRecipient == [
            "user": "zhangsan", "name": "张三", "mobile": "13800001111", "wecom_userid": "ZhangSan", "dingtalk_userid": "manager4711",
        ])
        #expect(chart.member(user: "lisi")?.notifierRecipient == ["user": "lisi", "name": "李四", "mobile": "13900002222"])
    }

    @Test func badSecretsArePointedAtWithoutShowingValues() throws {
        let result = SecretsFile.check(try YAMLFile(path: "secrets.yaml", text: """
            robots:
              guqiao wecom: { plugin: wecom, env: { HUAYING_WECOM_KEY: k } }
              ok:
                plugin: wecom
                env: { huaying_key: secret-value-1, HUAYING_WECOM_KEY: [secret-value-2] }
                url: https://example.invalid
            """))
        #expect(result.secrets == nil)
        #expect(result.diagnostics.map(\.description) == [
            "secrets.yaml:2:3: error: a robot name must be ASCII letters, digits, '-' or '_' (such as guqiao-wecom)",
            "secrets.yaml:5:12: error: an environment variable name must be upper-case ASCII letters, digits and '_', not starting with a digit (such as HUAYING_WECOM_KEY)",
            "secrets.yaml:5:60: error: the value of HUAYING_WECOM_KEY in robot 'ok' must be text, found a list",
            "secrets.yaml:6:5: error: unknown key 'url' in robot 'ok'; expected one of: plugin, env",
        ])
        #expect(!result.diagnostics.contains { $0.message.contains("secret-value") })
    }

    @Test func aSecretsFileOthersCanReadIsRefusedByName() throws {
        let path = try Scratch.file("secrets.yaml", Self.secrets)
        chmod(path, 0o644)
        #expect(try SecretsFile.permissionProblem(path: path, allowedOwners: SecretsFile.defaultOwners) == .openToGroupOrOthers(path: path, mode: 0o100644))
        #expect(throws: DiagnosticsError.self) { try SecretsFile.load(path: path) }
        do {
            _ = try SecretsFile.load(path: path)
        } catch {
            #expect(error.diagnostics.map(\.description) == ["\(path): error: secrets file is open to group or others (mode 0644); expected mode 0600: chmod 600 \(path)"])
        }
        chmod(path, 0o600)
        #expect(try SecretsFile.permissionProblem(path: path, allowedOwners: SecretsFile.defaultOwners) == nil)
        #expect(try SecretsFile.load(path: path).robots.count == 2)
        // Owned by someone who is neither root nor the daemon.
        let owner = UInt32(geteuid())
        #expect(try SecretsFile.permissionProblem(path: path, allowedOwners: [owner &+ 1]) == .wrongOwner(path: path, uid: owner))
        #expect(SecretsFile.PermissionProblem.wrongOwner(path: path, uid: 1000).description
            == "secrets file is owned by uid 1000; expected root or the daemon's user: chown root \(path)")
        let folder = (path as NSString).deletingLastPathComponent
        #expect(try SecretsFile.permissionProblem(path: folder, allowedOwners: SecretsFile.defaultOwners) == .notARegularFile(path: folder))
        #expect(throws: Diagnostic.self) { try SecretsFile.permissionProblem(path: folder + "/missing.yaml", allowedOwners: [0]) }
    }

    // MARK: notifications: in the config

    func config(_ notifications: String, secrets: String? = nil) throws(DiagnosticsError) -> HuayingConfig {
        let text = """
            paths:
              state_dir: state
              socket: huaying.sock
              workflows: workflows
              staff: staff.yaml
              calendars: calendars
            \(secrets.map { "  secrets: \($0)\n" } ?? "")\(notifications)
            """
        let file: YAMLFile
        do { file = try YAMLFile(path: "huaying.yaml", text: text) } catch { throw DiagnosticsError([error]) }
        return try HuayingConfig.parse(file, absolutePath: "/etc/huaying/huaying.yaml")
    }

    @Test func theDefaultsAreQuietFrom21To08OnDaysOffAndAMinuteDigest() throws {
        let config = try config("")
        #expect(config.notifications == .default)
        #expect(config.notifications.quietHours?.description == "21:00-08:00")
        #expect(config.notifications.quietOnDaysOff && config.notifications.digestWindow == 60)
        #expect(config.secretsFile == "/etc/huaying/secrets.yaml")
        #expect(try self.config("", secrets: "private/secrets.yaml").secretsFile == "/etc/huaying/private/secrets.yaml")
    }

    @Test func theNotificationsSectionIsRead() throws {
        let config = try config("""
            notifications:
              quiet_hours: "22:30-07:00"
              quiet_on_days_off: false
              digest_window: 2 minutes
            """)
        #expect(config.notifications == NotificationSettings(quietHours: .init("22:30-07:00"), quietOnDaysOff: false, digestWindow: 120))
        #expect(try self.config("notifications: { quiet_hours: off, digest_window: 0 }").notifications
            == NotificationSettings(quietHours: nil, quietOnDaysOff: true, digestWindow: 0))
        for (text, seconds) in [("90", 90), ("1 second", 1), ("45 seconds", 45), ("1 minute", 60), ("60 minutes", 3600)] {
            #expect(try self.config("notifications: { digest_window: \(text) }").notifications.digestWindow == seconds, "\(text)")
        }
        for bad in ["-5 seconds", "61 minutes", "1 day", "settings.x minutes", "5s", ""] {
            #expect(throws: DiagnosticsError.self, "\(bad)") { try self.config("notifications: { digest_window: \"\(bad)\" }") }
        }
    }

    @Test func badNotificationSettingsArePointedAt() {
        do {
            _ = try config("""
                notifications:
                  quiet_hours: "21:00-21:00"
                  quiet_on_days_off: sometimes
                  digest_window: 2 hours
                  digest: yes
                """)
            Issue.record("expected errors")
        } catch {
            #expect(error.diagnostics.map(\.description) == [
                "huaying.yaml:8:16: error: 'notifications.quiet_hours' must be HH:MM-HH:MM (such as \"21:00-08:00\") with different ends, or off; found '21:00-21:00'",
                "huaying.yaml:9:22: error: 'notifications.quiet_on_days_off' must be true or false; found 'sometimes'",
                "huaying.yaml:10:18: error: 'notifications.digest_window' must be a number of seconds or minutes from 0 to 60 minutes (such as \"60 seconds\" or \"2 minutes\"); found '2 hours'",
                "huaying.yaml:11:3: error: unknown key 'digest' in 'notifications'; expected one of: quiet_hours, quiet_on_days_off, digest_window",
            ])
        }
    }
}

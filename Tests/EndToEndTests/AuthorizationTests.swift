import ControlProtocol
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The daemon and the CLI as different Unix users: the caller is known from SO_PEERCRED, staff
/// act only on their own reminders, and a stranger is told how to be added.
///
/// The test creates a group and three system users (as root, which CI and the dev machines
/// are) and runs the CLI under each with `runuser`.
@Suite(.serialized) struct AuthorizationTests {
    static let group = "hy-e2e"
    static let secretary = "hy-secretary"    // secretary of the community hy-comm
    static let supervisor = "hy-streetca"     // civil affairs of the street above it
    static let stranger = "hy-stranger"       // a Unix user not in the org chart

    static func ensureUsers() throws {
        #expect(getuid() == 0, "these tests create Unix users and must run as root")
        if getgrnam(group) == nil {
            #expect(try runProgram("/usr/sbin/groupadd", ["--system", group]).status == 0)
        }
        for user in [secretary, supervisor, stranger] where getpwnam(user) == nil {
            let result = try runProgram("/usr/sbin/useradd", ["--system", "--no-create-home", "--gid", group, "--shell", "/usr/sbin/nologin", user])
            #expect(result.status == 0, "useradd \(user): \(result.stderr)")
        }
    }

    /// Runs the real CLI as another Unix user.
    func cli(as user: String, _ arguments: [String]) throws -> ProgramResult {
        try runProgram("/usr/sbin/runuser", ["-u", user, "--", Binaries.path("huaying")] + arguments)
    }

    static let staff = """
        roles:
          secretary: 书记
          civil-affairs: 民政
        units:
          - { id: hy-city, name: 测试市, kind: city }
          - { id: hy-street, name: 测试街道, kind: street, parent: hy-city }
          - { id: hy-comm, name: 测试社区, kind: community, parent: hy-street }
          - { id: hy-other, name: 别的街道, kind: street, parent: hy-city }
        staff:
          - user: \(secretary)
            name: 测试书记
            roles: { hy-comm: [secretary] }
          - user: \(supervisor)
            name: 街道民政
            roles: { hy-street: [civil-affairs] }
        """

    static let workflow = """
        workflow: check-in
        title: 测试提醒
        params:
          unit: { type: unit, title: 社区 }
        steps:
          - id: remind
            title: 请确认
            uses: remind
            with: { to: secretary@unit, message: "{{unit.name}}：请确认。" }
            ack:
              within: 1 day
              escalate:
                uses: escalate
                with: { chain: [civil-affairs@township], every: 1 day }
        """

    private func site() throws -> TestSite {
        let site = try TestSite()
        let root = site.root
        try FileManager.default.createDirectory(at: root.appendingPathComponent("workflows"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                                            .deletingLastPathComponent().appendingPathComponent("etc/calendars"),
                                         to: root.appendingPathComponent("etc/calendars"))
        try Self.staff.write(toFile: root.appendingPathComponent("etc/staff.yaml").path, atomically: true, encoding: .utf8)
        try Self.workflow.write(toFile: root.appendingPathComponent("workflows/check-in.yaml").path, atomically: true, encoding: .utf8)
        var config = try String(contentsOfFile: site.configPath, encoding: .utf8)
        config += "\naccess:\n  socket_group: \(Self.group)\n"
        try config.write(toFile: site.configPath, atomically: true, encoding: .utf8)
        // The other users must be able to reach the socket's folder.
        chmod(root.path, 0o755)
        return site
    }

    private func startedWithOpenReminder() throws -> (TestSite, TestDaemon, Int) {
        try Self.ensureUsers()
        let site = try site()
        let daemon = try TestDaemon(site: site, extraArguments: ["--simulated-clock", "2026-11-02T09:00+08:00"])
        let started = try huaying(["--socket", site.socketPath, "start", "check-in", "--param", "unit=hy-comm", "--json"])
        #expect(started.status == 0, "\(started.stderr)")
        let inbox = try cli(as: Self.secretary, ["--socket", site.socketPath, "inbox", "--json"])
        #expect(inbox.status == 0, "\(inbox.stderr)")
        let reminders = try JSONDecoder().decode([ReminderInfo].self, from: Data(inbox.stdout.utf8))
        #expect(reminders.count == 1)
        return (site, daemon, reminders.first?.id ?? -1)
    }

    @Test func theSocketBelongsToTheConfiguredGroupWithMode0660() throws {
        try Self.ensureUsers()
        let site = try site()
        defer { site.remove() }
        let daemon = try TestDaemon(site: site)
        var info = stat()
        #expect(stat(site.socketPath, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o660)
        #expect(info.st_gid == getgrnam(Self.group)!.pointee.gr_gid)
        #expect(daemon.stop() == 0)
    }

    @Test func staffCannotAcknowledgeAnothersReminderButTheirOwn() throws {
        let (site, daemon, reminder) = try startedWithOpenReminder()
        defer { site.remove() }
        let socket = ["--socket", site.socketPath]

        let notTheirs = try cli(as: Self.supervisor, socket + ["ack", "\(reminder)"])
        #expect(notTheirs.status == 4)
        #expect(notTheirs.stderr.contains("is addressed to \(Self.secretary), not to \(Self.supervisor)"), "\(notTheirs.stderr)")
        let supervisorInbox = try cli(as: Self.supervisor, socket + ["inbox", "--json"])
        #expect(try JSONDecoder().decode([ReminderInfo].self, from: Data(supervisorInbox.stdout.utf8)).isEmpty, "not escalated yet")

        let own = try cli(as: Self.secretary, socket + ["ack", "\(reminder)", "--note", "已确认", "--json"])
        #expect(own.status == 0, "\(own.stderr)")
        let acked = try JSONDecoder().decode(ReminderInfo.self, from: Data(own.stdout.utf8))
        #expect(acked.ackedBy == Self.secretary)

        let audit = try huaying(socket + ["audit", "--json"])
        let rows = try JSONDecoder().decode(AuditResult.self, from: Data(audit.stdout.utf8)).rows
        #expect(rows.contains { $0.event == "reminder.acknowledged" && $0.actor == Self.secretary })
        #expect(daemon.stop() == 0)
    }

    @Test func staffMayNotDoAdminWorkNorActForOthers() throws {
        let (site, daemon, _) = try startedWithOpenReminder()
        defer { site.remove() }
        let socket = ["--socket", site.socketPath]
        let start = try cli(as: Self.secretary, socket + ["start", "check-in", "--param", "unit=hy-comm"])
        #expect(start.status == 4)
        #expect(start.stderr.contains("start is for admins"), "\(start.stderr)")
        let actAs = try cli(as: Self.secretary, socket + ["--as", Self.supervisor, "inbox"])
        #expect(actAs.status == 4)
        #expect(actAs.stderr.contains("only an admin may act as another user"), "\(actAs.stderr)")
        let clock = try cli(as: Self.secretary, socket + ["clock", "advance", "1d"])
        #expect(clock.status == 4)
        #expect(daemon.log.contains("control request refused"))
        #expect(daemon.stop() == 0)
    }

    @Test func aSupervisorSeesInstancesOfUnitsBelowAndEscalationsReachThem() throws {
        let (site, daemon, reminder) = try startedWithOpenReminder()
        defer { site.remove() }
        let socket = ["--socket", site.socketPath]
        let instances = try cli(as: Self.supervisor, socket + ["instances", "--json"])
        #expect(instances.status == 0, "\(instances.stderr)")
        #expect(try JSONDecoder().decode([InstanceSummary].self, from: Data(instances.stdout.utf8)).count == 1)

        #expect(try huaying(socket + ["clock", "advance", "1d"]).status == 0)
        let escalated = try cli(as: Self.supervisor, socket + ["inbox", "--json"])
        let reminders = try JSONDecoder().decode([ReminderInfo].self, from: Data(escalated.stdout.utf8))
        #expect(reminders.map(\.id) == [reminder])
        #expect(reminders.first?.level == 1)
        #expect(try cli(as: Self.supervisor, socket + ["ack", "\(reminder)"]).status == 0, "escalated-to staff may acknowledge")
        #expect(daemon.stop() == 0)
    }

    @Test func anUnknownUserIsToldHowToBeAdded() throws {
        let (site, daemon, _) = try startedWithOpenReminder()
        defer { site.remove() }
        let socket = ["--socket", site.socketPath]
        let inbox = try cli(as: Self.stranger, socket + ["inbox"])
        #expect(inbox.status == 4)
        #expect(inbox.stderr.contains("\(Self.stranger) is not in the org chart"), "\(inbox.stderr)")
        #expect(inbox.stderr.contains("user: \(Self.stranger)"))
        #expect(inbox.stderr.contains("etc/staff.yaml"))
        #expect(try cli(as: Self.stranger, socket + ["status"]).status == 0, "status is open to anyone who can reach the socket")
        #expect(daemon.log.contains("reason=unknown_user"))
        #expect(daemon.stop() == 0)
    }
    @Test func aSubstituteDuringLeaveAcknowledgesOnBehalfAndASupervisorNudges() throws {
        let (site, daemon, reminder) = try startedWithOpenReminder()
        defer { site.remove() }
        let socket = ["--socket", site.socketPath]
        // 催办 by the street's civil affairs, who oversees the community.
        let nudge = try cli(as: Self.supervisor, socket + ["nudge", "\(reminder)", "--note", "今天内确认"])
        #expect(nudge.status == 0, "\(nudge.stderr)")
        let mine = try JSONDecoder().decode([ReminderInfo].self, from: Data(try cli(as: Self.secretary, socket + ["inbox", "--json"]).stdout.utf8))
        #expect(mine.first?.nudgedBy == Self.supervisor)

        // Staff record only their own leave.
        let forOther = try cli(as: Self.secretary, socket + ["--as", Self.supervisor, "away", "--from", "2026-11-02", "--until", "2026-11-03", "--substitute", Self.secretary])
        #expect(forOther.status == 4, "\(forOther.stderr)")
        let away = try cli(as: Self.secretary, socket + ["away", "--from", "2026-11-02", "--until", "2026-11-03", "--substitute", Self.supervisor])
        #expect(away.status == 0, "\(away.stderr)")
        let unknown = try cli(as: Self.secretary, socket + ["away", "--from", "2026-11-02", "--until", "2026-11-03", "--substitute", Self.stranger])
        #expect(unknown.status == 4 && unknown.stderr.contains("[unknown_user]"), "\(unknown.stderr)")

        let covered = try cli(as: Self.supervisor, socket + ["inbox", "--json"])
        let reminders = try JSONDecoder().decode([ReminderInfo].self, from: Data(covered.stdout.utf8))
        #expect(reminders.map(\.id) == [reminder], "the substitute sees the absent secretary's reminder")
        #expect(reminders.first?.onBehalfOf == [Self.secretary])
        #expect(try cli(as: Self.supervisor, socket + ["inbox"]).stdout.contains("代\(Self.secretary)"))
        let list = try cli(as: Self.supervisor, socket + ["away", "--list", "--json"])
        #expect(try JSONDecoder().decode([AbsenceInfo].self, from: Data(list.stdout.utf8)).map(\.user) == [Self.secretary])

        let ack = try cli(as: Self.supervisor, socket + ["ack", "\(reminder)"])
        #expect(ack.status == 0, "\(ack.stderr)")
        let audit = try huaying(socket + ["audit", "--json"])
        let rows = try JSONDecoder().decode(AuditResult.self, from: Data(audit.stdout.utf8)).rows
        #expect(rows.contains { $0.event == "reminder.acknowledged" && $0.text == "由 \(Self.supervisor) 代 \(Self.secretary) 确认" && $0.fields["on_behalf_of"] == Self.secretary })
        #expect(rows.contains { $0.event == "absence.recorded" && $0.actor == Self.secretary })
        #expect(rows.contains { $0.event == "reminder.nudged" && $0.actor == Self.supervisor && $0.fields["note"] == "今天内确认" })
        #expect(daemon.stop() == 0)
    }
}

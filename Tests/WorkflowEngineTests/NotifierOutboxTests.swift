import Foundation
import Testing
import WorkflowEngine
import WorkflowModel

/// Reminders fanned out to chat notifiers through the outbox, with a stub notifier that logs
/// what it gets; quiet hours on the simulated clock.
@Suite(.serialized) struct NotifierOutboxTests {
    /// The checkout's org chart with 古桥街道's robot (inherited by 古桥社区).
    static func staff() throws -> String {
        let text = try String(contentsOfFile: Checkout.etc + "/staff.yaml", encoding: .utf8)
        let line = "{ id: guqiao,           name: 古桥街道,     kind: street,    parent: huaying }"
        #expect(text.contains(line))
        return text.replacingOccurrences(of: line, with: "{ id: guqiao, name: 古桥街道, kind: street, parent: huaying, notify: [guqiao-chat] }")
    }

    static let notifier = pythonPlugin(#"{"status": "completed", "output": {"key_seen": os.environ.get("CHAT_KEY", "")}}"#)

    static func harness(start: String = "2026-11-02T09:00", stepKeys: String = "", digestWindow: Int = 0) throws -> ExecHarness {
        let harness = try ExecHarness(start: start, staff: try staff())
        try harness.writePlugin("chat", script: notifier, manifest: "kind: notifier\nenv: [CHAT_KEY]\n")
        try harness.load(["notice.yaml": noticeWorkflow.replacingOccurrences(of: "    uses: remind\n", with: "    uses: remind\n" + stepKeys)])
        harness.engine.useNotifiers(
            secrets: NotifierSecrets(robots: ["guqiao-chat": .init(name: "guqiao-chat", plugin: "chat", environment: ["CHAT_KEY": "k-123", "OTHER": "no"])]),
            settings: NotificationSettings(quietHours: NotificationSettings.default.quietHours, quietOnDaysOff: true, digestWindow: digestWindow))
        return harness
    }

    @Test func aReminderAndItsEscalationReachTheUnitsRobotWithContactsAndItsSecret() throws {
        let harness = try Self.harness()
        let id = try harness.engine.start(workflow: "notice", params: ["unit": "guqiao-shequ", "meeting_day": "2026-11-12"], actor: "root")
        try harness.startDelivery()
        #expect(harness.runAttempts(1))
        let first = try #require(harness.requests().first)
        let reminder = try #require(first["reminder"] as? [String: Any])
        #expect(reminder["level"] as? Int == 0)
        // Two dates named apart: the step has no statutory deadline; the reminder is to be
        // acknowledged within 2 days.
        #expect((first["step"] as? [String: Any])?["deadline"] is NSNull)
        #expect((reminder["ack_by"] as? String)?.hasPrefix("2026-11-04T09:00") == true, "\(reminder)")
        #expect((reminder["recipients"] as? [[String: String]])?.first == ["user": "zhaomin", "name": "赵敏", "mobile": "13800000002", "dingtalk_userid": "zhaomin-guqiao"])
        #expect((first["instance"] as? [String: Any])?["id"] as? Int64 == id)
        #expect(harness.finished.first?.result == .completed(output: ["key_seen": "k-123"]), "the robot's secret, as the manifest allows")
        // Two days later the reminder escalates to the township's civil-affairs office.
        try harness.advance(seconds: 2 * 86_400)
        #expect(harness.run(until: { harness.finished.count >= 3 }))
        // The escalation (a repeat at the same instant goes to everyone reminded so far).
        let escalation = try #require(harness.requests().first {
            let reminder = $0["reminder"] as? [String: Any]
            return reminder?["level"] as? Int == 1 && ((reminder?["unacknowledged"] as? [Any])?.isEmpty == false)
        })
        let level1 = try #require(escalation["reminder"] as? [String: Any])
        #expect((level1["recipients"] as? [[String: String]])?.map { $0["user"] } == ["wanghong"])
        #expect((level1["unacknowledged"] as? [[String: String]])?.map { $0["user"] } == ["zhaomin"])
        try harness.close()
    }

    /// 催办 goes to the chat as well, and the substitute of an absent recipient is @mentioned.
    @Test func aNudgeIsSentToTheRobotAndASubstituteIsMentioned() throws {
        let harness = try Self.harness()
        _ = try harness.engine.start(workflow: "notice", params: ["unit": "guqiao-shequ", "meeting_day": "2026-11-12"], actor: "root")
        let reminder = try #require(harness.engine.inbox(user: "zhaomin", all: false).first)
        _ = try harness.engine.recordAbsence(user: "zhaomin", substitute: "wanghong", from: CivilDate("2026-11-02")!,
                                             until: CivilDate("2026-11-02")!, actor: "zhaomin")
        _ = try harness.engine.nudge(reminder: reminder.id, actor: "wanghong", note: "请今天发出")
        try harness.startDelivery()
        #expect(harness.run(until: { harness.finished.count >= 2 }))
        let requests = try harness.requests().compactMap { $0["reminder"] as? [String: Any] }
        #expect(requests.count == 2, "the first send and the nudge")
        // The two run side by side (the manifest's concurrency), so in either order.
        let mentioned = requests.map { ($0["recipients"] as? [[String: String]])?.compactMap { $0["user"] } ?? [] }
        #expect(mentioned.sorted { $0.count < $1.count } == [["zhaomin"], ["zhaomin", "wanghong"]], "\(mentioned)")
        try harness.close()
    }

    @Test func aReminderRaisedInQuietHoursGoesOutNextWorkdayMorningWhileTheInboxHasItAtOnce() throws {
        let harness = try Self.harness(start: "2026-11-02T22:30")
        _ = try harness.engine.start(workflow: "notice", params: ["unit": "guqiao-shequ", "meeting_day": "2026-11-12"], actor: "root")
        #expect(try harness.engine.inbox(user: "zhaomin", all: false).count == 1)
        // deliverDue claims and launches at once: nothing started means nothing was due.
        try harness.startDelivery()
        harness.delivery?.deliverDue()
        #expect(harness.started.isEmpty)
        #expect(try harness.engine.nextOutboxDue() == local("2026-11-03T08:00"))
        _ = try harness.engine.advanceSimulatedClock(to: local("2026-11-03T07:59"))
        harness.delivery?.deliverDue()
        #expect(harness.started.isEmpty)
        _ = try harness.engine.advanceSimulatedClock(to: local("2026-11-03T08:00"))
        harness.delivery?.deliverDue()
        #expect(harness.runAttempts(1))
        try harness.close()
    }

    @Test func anAcknowledgedReminderIsNotAnnouncedAnyMore() throws {
        let harness = try Self.harness(start: "2026-11-02T22:30")
        _ = try harness.engine.start(workflow: "notice", params: ["unit": "guqiao-shequ", "meeting_day": "2026-11-12"], actor: "root")
        let reminder = try #require(harness.engine.inbox(user: "zhaomin", all: false).first)
        _ = try harness.engine.acknowledge(reminder: reminder.id, user: "zhaomin", actor: "zhaomin", note: nil, fields: [:])
        try harness.startDelivery()
        _ = try harness.engine.advanceSimulatedClock(to: local("2026-11-03T08:00"))
        harness.delivery?.deliverDue()
        #expect(harness.started.isEmpty)
        #expect(try harness.engine.outboxCounts() == (0, 0))
        try harness.close()
    }

    @Test func anUrgentStepIsNotHeldBackByQuietHours() throws {
        let harness = try Self.harness(start: "2026-11-02T22:30", stepKeys: "    urgent: true\n")
        _ = try harness.engine.start(workflow: "notice", params: ["unit": "guqiao-shequ", "meeting_day": "2026-11-12"], actor: "root")
        try harness.startDelivery()
        #expect(harness.runAttempts(1))
        try harness.close()
    }

    @Test func aStepsNotifyKeepsOnlyRobotsOfThosePlugins() throws {
        let harness = try Self.harness(stepKeys: "    notify: [dingtalk]\n")
        _ = try harness.engine.start(workflow: "notice", params: ["unit": "guqiao-shequ", "meeting_day": "2026-11-12"], actor: "root")
        #expect(try harness.engine.outboxCounts() == (0, 0), "guqiao-chat is a chat robot, not a dingtalk one")
        #expect(harness.engine.loadErrors.isEmpty)
        try harness.close()
    }

    @Test func remindersForOneRobotWithinTheDigestWindowGoOutAsOneDigest() throws {
        let harness = try Self.harness(digestWindow: 60)
        for _ in 0..<3 {
            _ = try harness.engine.start(workflow: "notice", params: ["unit": "guqiao-shequ", "meeting_day": "2026-11-12"], actor: "root")
        }
        try harness.startDelivery()
        harness.delivery?.deliverDue()
        #expect(harness.started.isEmpty, "the window is still open")
        #expect(try harness.engine.nextOutboxDue(after: harness.base.clock.now) == local("2026-11-02T09:01"))
        try harness.advance(seconds: 60)
        #expect(harness.runAttempts(1))
        #expect(harness.started.count == 1, "one message for the robot, not three (all three were due at the same claim)")
        let digest = try #require(harness.requests().first)
        let reminders = try #require(digest["reminders"] as? [[String: Any]])
        #expect(reminders.count == 3)
        #expect(reminders.compactMap { ($0["reminder"] as? [String: Any])?["id"] as? Int } == [1, 2, 3])
        #expect((digest["idempotency_key"] as? String)?.hasPrefix("digest/guqiao-chat/") == true)
        #expect(try harness.engine.outboxCounts() == (0, 0), "every row of the digest is done")
        try harness.close()
    }
}

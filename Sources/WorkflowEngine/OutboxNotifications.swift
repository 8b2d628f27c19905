import ControlProtocol
import Foundation
import SQLiteStore
import WorkflowModel

/// Reminders fanned out to chat notifiers (`kind: notifier` plugins, docs/plugins.md,
/// "Notifiers"): every `reminder.sent`, `reminder.repeated`, `reminder.escalated` and
/// `reminder.nudged` row a unit
/// of work records becomes one outbox row per robot of the instance's unit (the unit's
/// `notify:` in staff.yaml, inherited from the units above; the robot's plugin and secrets
/// from the secrets file), in the same transaction. The inbox has the reminder at once; the
/// row is due when the quiet hours allow (`NotificationSchedule`). A notification that fails
/// for good is recorded (`notification.failed`) and changes no step.
extension WorkflowEngine {
    /// The robots' secrets and the quiet-hour settings (nil secrets: no chat notifications).
    public func useNotifiers(secrets: NotifierSecrets?, settings: NotificationSettings) {
        outbox.secrets = secrets
        outbox.notificationSettings = settings
    }

    /// A 催办 (`reminder.nudged`) is sent again to everyone reminded so far, like a repeat.
    static let notifiedEvents: Set<String> = [LedgerEvent.reminderSent.rawValue, LedgerEvent.reminderRepeated.rawValue,
                                              LedgerEvent.reminderEscalated.rawValue, LedgerEvent.reminderNudged.rawValue]

    /// The notification rows for the reminder rows of a unit of work (called inside its transaction).
    func stageNotifications(_ work: UnitOfWork) throws {
        guard let secrets = outbox.secrets, let chart = support.orgChart else { return }
        var substitutesByDay: [CivilDate: [String: String]] = [:]  // read once per day a unit of work touches
        for entry in work.ledger where Self.notifiedEvents.contains(entry.event) {
            // An admin's alert about a failed plugin step stays in the inbox.
            guard entry.fields["plugin"] == nil, let instanceID = entry.instance, let reminderID = entry.fields["reminder"].flatMap(Int64.init),
                  let instance = try work.instance(instanceID), let unit = instance.unit,
                  let reminder = instance.reminders.first(where: { $0.id == reminderID }), reminder.state == .open else { continue }
            let definition = instance.definition.step(reminder.step)
            let robots = secrets.robots(for: unit, in: chart, plugins: definition?.notify?.map(\.value))
                .filter { outbox.plugins[$0.plugin]?.manifest.kind == .notifier }
            guard !robots.isEmpty else { continue }
            let known = chart.units[unit]
            let level = entry.event == LedgerEvent.reminderEscalated.rawValue ? reminder.level : (entry.event == LedgerEvent.reminderSent.rawValue ? 0 : reminder.level)
            let levelUsers = reminder.recipients.filter { entry.event == LedgerEvent.reminderEscalated.rawValue ? $0.level == level : true }.map(\.user)
            // Whoever stands in for an absent recipient that day is @mentioned too (huaying away).
            let day = LocalDateTime(entry.at, in: support.timeZone).date
            if substitutesByDay[day] == nil { substitutesByDay[day] = try substitutes(on: day) }
            var notified = levelUsers
            for user in levelUsers {
                if let substitute = substitutesByDay[day]?[user], !notified.contains(substitute) { notified.append(substitute) }
            }
            let recipients = notified.map { user in chart.member(user: user)?.notifierRecipient ?? ["user": user, "name": user] }
            var unacknowledged: [[String: String]] = []
            if entry.event == LedgerEvent.reminderEscalated.rawValue {
                let since = InstanceContext.local(Millis.date(reminder.dueAt), support.timeZone)
                for recipient in reminder.recipients where recipient.level < level {
                    unacknowledged.append(["user": recipient.user, "name": chart.member(user: recipient.user)?.name ?? recipient.user, "since": since])
                }
            }
            let schedule = NotificationSchedule(settings: outbox.notificationSettings, calendar: support.calendar(for: instance.definition),
                                                timeZone: support.timeZone)
            let deliverAt = schedule.deliveryInstant(for: entry.at, urgent: definition?.urgent ?? false)
            for robot in robots {
                guard let plugin = outbox.plugins[robot.plugin] else { continue }
                let request: [String: Any] = [
                    "protocol": PluginJSON.protocolVersion,
                    "plugin": robot.plugin,
                    "instance": ["id": instance.id, "workflow": instance.workflow, "version": instance.version,
                                 "unit": ["id": unit, "name": known?.name ?? unit, "kind": known?.kind.rawValue ?? ""]],
                    "step": ["id": reminder.step, "title": definition?.title ?? reminder.step,
                             "due": Self.iso8601(Millis.date(reminder.dueAt), support.timeZone),
                             // The statutory deadline (法定期限); the reminder's own is its ack_by (确认期限).
                             "deadline": instance.steps[reminder.step]?.deadlineAt.map { Self.iso8601(Millis.date($0), support.timeZone) } ?? NSNull()],
                    "with": [String: Any](),
                    "reminder": ["id": reminder.id, "level": level, "message": reminder.message,
                                 "ack_by": reminder.deadlineAt.map { Self.iso8601(Millis.date($0), support.timeZone) } ?? NSNull(),
                                 "recipients": recipients, "unacknowledged": unacknowledged],
                ]
                try db.execute("""
                    INSERT INTO outbox (kind, plugin, instance, step, reminder, robot, idempotency_key, request, state, attempts, max_attempts, next_at, created_at)
                    VALUES (\(OutboxRowKind.notify.sql), ?, ?, ?, ?, ?, ?, ?, \(OutboxRowState.pending.sql), 0, ?, ?, ?)
                    """, [.text(robot.plugin), .integer(instance.id), .text(reminder.step), .integer(reminder.id), .text(robot.name),
                          .text("\(instance.id)/\(reminder.step)/reminder-\(reminder.id)/\(entry.seq)/\(robot.name)"), .text(PluginJSON.text(request)),
                          .integer(Int64(plugin.manifest.maxAttempts)), .integer(Millis.from(deliverAt)), .integer(Millis.from(entry.at))])
                work.outboxTouched = true
            }
        }
    }

    /// The notification batches due at `now` (NotificationSchedule: per robot, a digest window
    /// opened by the earliest), within each plugin's free concurrency.
    func dueNotificationBatches(now: Date, taken: inout [String: Int], free: (String) -> Int) throws -> [[Row]] {
        let rows = try db.query("""
            SELECT id, plugin, instance, step, reminder, robot, idempotency_key, request, attempts, next_at FROM outbox
            WHERE state = \(OutboxRowState.pending.sql) AND kind = \(OutboxRowKind.notify.sql) ORDER BY next_at, id LIMIT 5000
            """)
        guard !rows.isEmpty else { return [] }
        var byID: [Int64: Row] = [:]
        var pending: [PendingNotification] = []
        for row in rows {
            let id = try row.int("id")
            byID[id] = row
            pending.append(PendingNotification(id: id, robot: try row.optionalText("robot") ?? "", deliverAt: Millis.date(try row.int("next_at"))))
        }
        // The calendar only matters for delivery instants, already in next_at.
        let schedule = NotificationSchedule(settings: outbox.notificationSettings, calendar: WorkCalendar(id: "-", title: "-", years: []),
                                            timeZone: support.timeZone)
        var due: [[Row]] = []
        for batch in schedule.batches(of: pending) where batch.sendAt <= now {
            let members = batch.notifications.compactMap { byID[$0.id] }
            guard let plugin = try members.first?.text("plugin"), outbox.plugins[plugin] != nil,
                  taken[plugin, default: 0] < free(plugin) else { continue }
            taken[plugin, default: 0] += 1
            due.append(members)
        }
        return due
    }

    /// Claims one batch (one notification, or a digest of several): its rows go `running`
    /// together; rows whose reminder was acknowledged or cancelled meanwhile are dropped.
    func claimNotifications(_ rows: [Row], in work: UnitOfWork, now: Date) throws -> OutboxAttempt? {
        var members: [Row] = []
        for row in rows {
            let reminder = try row.optionalInt("reminder")
            guard let instance = try work.instance(try row.int("instance")), instance.isRunning,
                  instance.reminders.contains(where: { $0.id == reminder && $0.state == .open }) else {
                try db.execute("UPDATE outbox SET state = \(OutboxRowState.cancelled.sql), finished_at = ? WHERE id = ?", [.integer(Millis.from(now)), .integer(try row.int("id"))])
                continue
            }
            members.append(row)
        }
        guard let leader = members.first else { return nil }
        let leaderID = try leader.int("id"), plugin = try leader.text("plugin"), robot = try leader.optionalText("robot")
        let attempt = Int(try members.map { try $0.int("attempts") }.max() ?? 0) + 1
        for row in members {
            try db.execute("UPDATE outbox SET state = \(OutboxRowState.running.sql), attempts = attempts + 1, started_at = ?, batch = ? WHERE id = ?",
                           [.integer(Millis.from(now)), members.count > 1 ? .integer(leaderID) : .null, .integer(try row.int("id"))])
        }
        let key: String
        let request: [UInt8]
        if members.count == 1 {
            key = try leader.text("idempotency_key")
            request = PluginJSON.request(try leader.text("request"), idempotencyKey: key, attempt: attempt)
        } else {
            key = "digest/\(robot ?? "-")/\(members.map { String((try? $0.int("id")) ?? 0) }.joined(separator: ","))"
            var reminders: [Any] = []
            for row in members {
                let stored = (try? JSONSerialization.jsonObject(with: Data(try row.text("request").utf8))) as? [String: Any] ?? [:]
                reminders.append(["instance": stored["instance"] ?? NSNull(), "step": stored["step"] ?? NSNull(), "reminder": stored["reminder"] ?? NSNull()])
            }
            let digest: [String: Any] = ["protocol": PluginJSON.protocolVersion, "plugin": plugin, "with": [String: Any](), "reminders": reminders]
            request = PluginJSON.request(PluginJSON.text(digest), idempotencyKey: key, attempt: attempt)
        }
        return OutboxAttempt(id: leaderID, plugin: plugin, idempotencyKey: key, attempt: attempt, instance: try leader.int("instance"),
                             step: try leader.text("step"), request: request, environment: robotEnvironment(robot, plugin: plugin) ?? [:])
    }

    /// The variables a notify row's plugin runs with: its robot's, as the manifest allows.
    func robotEnvironment(_ robot: String?, plugin: String) -> [String: String]? {
        guard let robot, let secrets = outbox.secrets, let manifest = outbox.plugins[plugin]?.manifest else { return nil }
        return secrets.environment(of: robot, allowed: manifest.env)
    }

    /// Commits a notification attempt's result: done, due again, or failed for good (recorded).
    func finishNotification(_ id: Int64, row: Row, result: PluginResult, in work: UnitOfWork, now: Date) throws {
        let nowMillis = Millis.from(now)
        let attempts = Int(try row.int("attempts")), maxAttempts = Int(try row.int("max_attempts"))
        let pluginName = try row.text("plugin")
        switch result {
        case let .completed(output):
            try db.execute("UPDATE outbox SET state = \(OutboxRowState.done.sql), finished_at = ?, output = ?, last_error = NULL WHERE id = ?",
                           [.integer(nowMillis), .text(FlatJSON.encode(output)), .integer(id)])
        case let .retry(after, reason) where attempts < maxAttempts:
            let delay = after ?? outbox.plugins[pluginName]?.manifest.backoffSeconds(afterAttempt: attempts) ?? 10
            try db.execute("UPDATE outbox SET state = \(OutboxRowState.pending.sql), next_at = ?, last_error = ? WHERE id = ?",
                           [.integer(Millis.from(now.addingTimeInterval(delay))), .text(reason), .integer(id)])
        case let .retry(_, reason), let .failed(reason):
            try db.execute("UPDATE outbox SET state = \(OutboxRowState.failed.sql), finished_at = ?, last_error = ? WHERE id = ?",
                           [.integer(nowMillis), .text(reason), .integer(id)])
            let robot = try row.optionalText("robot") ?? "?"
            work.record(at: now, instance: try row.int("instance"), step: try row.text("step"), .notificationFailed,
                        "通知未能送达（\(pluginName)，\(robot)）：\(reason)",
                        fields: ["plugin": pluginName, "robot": robot, "reminder": "\(try row.optionalInt("reminder") ?? 0)",
                                 "reason": reason, "attempts": "\(attempts)", "idempotency_key": try row.text("idempotency_key")])
        }
    }
}

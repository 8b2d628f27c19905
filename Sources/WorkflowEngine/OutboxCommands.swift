import ControlProtocol
import Foundation
import SQLiteStore
import StepPluginAPI
import WorkflowModel

/// Claiming outbox rows, committing plugin results, recovery after a restart and an admin's
/// retry: each its own unit of work, so a result commits apart from the transaction that
/// started the attempt, and the loop serves other requests in between.
extension WorkflowEngine {
    /// Rows that were `running` when the daemon stopped go back to `pending`, due now, with
    /// their idempotency key unchanged (at-least-once: the plugin may see the effect again).
    /// - Returns: how many rows were recovered.
    @discardableResult
    public func recoverOutbox() throws -> Int {
        let now = clock.now
        let rows = try db.query("SELECT id, instance, step FROM outbox WHERE state = \(OutboxRowState.running.sql)")
        guard !rows.isEmpty else { return 0 }
        try perform { work in
            work.outboxTouched = true
            for row in rows {
                let instanceID = try row.int("instance"), stepID = try row.text("step")
                try db.execute("UPDATE outbox SET state = \(OutboxRowState.pending.sql), next_at = ?, batch = NULL WHERE id = ?", [.integer(Millis.from(now)), .integer(try row.int("id"))])
                if var instance = try work.instance(instanceID), instance.steps[stepID]?.state == .running {
                    instance.steps[stepID]?.state = StepStateMachine.next(.running, on: .retry)
                    work.put(instance)
                }
            }
        }
        return rows.count
    }

    /// The earliest instant a pending row falls due after `instant` (any pending row when nil):
    /// a notification's when its digest window closes.
    public func nextOutboxDue(after instant: Date? = nil) throws -> Date? {
        let after = instant.map(Millis.from) ?? Int64.min
        let window = Int64(outbox.notificationSettings.digestWindow) * 1000
        return try db.queryOne("""
            SELECT min(t) AS t FROM (SELECT next_at + (CASE kind WHEN \(OutboxRowKind.notify.sql) THEN ? ELSE 0 END) AS t FROM outbox WHERE state = \(OutboxRowState.pending.sql))
            WHERE t > ?
            """, [.integer(window), .integer(after)])?.optionalInt("t").map(Millis.date)
    }

    /// `outbox_pending` (pending or running) and `outbox_failed` rows.
    public func outboxCounts() throws -> (pending: Int, failed: Int) {
        let row = try db.queryOne("""
            SELECT (SELECT count(*) FROM outbox WHERE state IN (\(OutboxRowState.pending.sql), \(OutboxRowState.running.sql))) AS pending,
                   (SELECT count(*) FROM outbox WHERE state = \(OutboxRowState.failed.sql)) AS failed
            """)
        return (Int(try row?.int("pending") ?? 0), Int(try row?.int("failed") ?? 0))
    }

    /// Claims the rows due now, at most `free(plugin)` per plugin: each goes `pending →
    /// running` with its step `due → running`, and the attempt count grows, in one transaction.
    /// Rows of a plugin that is no longer loaded wait.
    public func claimOutbox(limit free: (String) -> Int) throws -> [OutboxAttempt] {
        let now = clock.now
        let rows = try db.query("""
            SELECT id, kind, plugin, instance, step, reminder, robot, idempotency_key, request, attempts FROM outbox
            WHERE state = \(OutboxRowState.pending.sql) AND kind = \(OutboxRowKind.step.sql) AND next_at <= ? ORDER BY next_at, id LIMIT 1000
            """, [.integer(Millis.from(now))])
        var taken: [String: Int] = [:]
        var chosen: [Row] = []
        for row in rows {
            let plugin = try row.text("plugin")
            guard outbox.plugins[plugin] != nil, taken[plugin, default: 0] < free(plugin) else { continue }
            taken[plugin, default: 0] += 1
            chosen.append(row)
        }
        let batches = try dueNotificationBatches(now: now, taken: &taken, free: free)
        guard !chosen.isEmpty || !batches.isEmpty else { return [] }
        return try perform { work in
            work.outboxTouched = true
            var attempts: [OutboxAttempt] = []
            for batch in batches {
                if let attempt = try claimNotifications(batch, in: work, now: now) { attempts.append(attempt) }
            }
            for row in chosen {
                let id = try row.int("id"), instanceID = try row.int("instance"), stepID = try row.text("step")
                guard var instance = try work.instance(instanceID), instance.isRunning,
                      let step = instance.steps[stepID], step.state == .due else {
                    try db.execute("UPDATE outbox SET state = \(OutboxRowState.cancelled.sql), finished_at = ? WHERE id = ?", [.integer(Millis.from(now)), .integer(id)])
                    continue
                }
                instance.steps[stepID]?.state = StepStateMachine.next(step.state, on: .start)
                work.put(instance)
                let attempt = Int(try row.int("attempts")) + 1
                try db.execute("UPDATE outbox SET state = \(OutboxRowState.running.sql), attempts = ?, started_at = ? WHERE id = ?",
                               [.integer(Int64(attempt)), .integer(Millis.from(now)), .integer(id)])
                let key = try row.text("idempotency_key")
                attempts.append(OutboxAttempt(
                    id: id, plugin: try row.text("plugin"), idempotencyKey: key, attempt: attempt, instance: instanceID, step: stepID,
                    request: PluginJSON.request(try row.text("request"), idempotencyKey: key, attempt: attempt)))
            }
            return attempts
        }
    }

    /// Commits one attempt's result: the step completes (and what follows runs), waits for
    /// a retry (`running → due`, the row due again after the backoff or the plugin's own
    /// delay), or fails for good after `max_attempts` or a `failed` result (the ledger row
    /// says why and after how many attempts; the admins get a reminder).
    public func finishOutbox(_ id: Int64, result: PluginResult) throws {
        if case .completed = result {} else { outbox.failedAttempts += 1 }
        try perform { work in
            work.outboxTouched = true
            let now = clock.now, nowMillis = Millis.from(now)
            guard let row = try db.queryOne("""
                SELECT kind, plugin, instance, step, reminder, robot, idempotency_key, attempts, max_attempts, state FROM outbox WHERE id = ?
                """, [.integer(id)]), try row.text("state") == OutboxRowState.running.rawValue else { return }
            if try row.text("kind") == OutboxRowKind.notify.rawValue {
                // A digest's rows share its result.
                for member in try db.query("""
                    SELECT id, kind, plugin, instance, step, reminder, robot, idempotency_key, attempts, max_attempts, state FROM outbox
                    WHERE (id = ? OR batch = ?) AND state = \(OutboxRowState.running.sql) ORDER BY id
                    """, [.integer(id), .integer(id)]) {
                    try finishNotification(try member.int("id"), row: member, result: result, in: work, now: now)
                }
                return
            }
            let pluginName = try row.text("plugin"), instanceID = try row.int("instance"), stepID = try row.text("step")
            let key = try row.text("idempotency_key")
            let attempts = Int(try row.int("attempts")), maxAttempts = Int(try row.int("max_attempts"))
            guard var instance = try work.instance(instanceID), instance.isRunning, var step = instance.steps[stepID], step.state == .running else {
                try db.execute("UPDATE outbox SET state = \(OutboxRowState.cancelled.sql), finished_at = ? WHERE id = ?", [.integer(nowMillis), .integer(id)])
                return
            }
            let fields = ["plugin": pluginName, "idempotency_key": key, "attempt": "\(attempts)"]
            switch result {
            case let .completed(output):
                step.state = StepStateMachine.next(step.state, on: .complete)
                step.doneAt = nowMillis
                step.output = output
                instance.steps[stepID] = step
                try db.execute("UPDATE outbox SET state = \(OutboxRowState.done.sql), finished_at = ?, output = ?, last_error = NULL WHERE id = ?",
                               [.integer(nowMillis), .text(FlatJSON.encode(output)), .integer(id)])
                var ledgerFields = fields
                for (name, value) in output { ledgerFields["output." + name] = value }
                work.put(instance)
                work.record(at: now, instance: instanceID, step: stepID, .stepRecorded, "插件\(pluginName)已完成", fields: ledgerFields)
                // The step's own then: fires when it completes, as for built-in steps.
                startStepChains(of: stepID, of: instance, in: work, now: now)
            case let .retry(after, reason) where attempts < maxAttempts:
                let delay = after ?? outbox.plugins[pluginName]?.manifest.backoffSeconds(afterAttempt: attempts) ?? 10
                let retryAt = now.addingTimeInterval(delay)
                step.state = StepStateMachine.next(step.state, on: .retry)
                instance.steps[stepID] = step
                try db.execute("UPDATE outbox SET state = \(OutboxRowState.pending.sql), next_at = ?, last_error = ? WHERE id = ?",
                               [.integer(Millis.from(retryAt)), .text(reason), .integer(id)])
                work.put(instance)
                work.record(at: now, instance: instanceID, step: stepID, .stepRetry,
                            "插件\(pluginName)第\(attempts)次执行未成功，将重试：\(reason)",
                            fields: fields.merging(["reason": reason, "retry_at": InstanceContext.local(retryAt, support.timeZone)]) { $1 })
            case let .retry(_, reason), let .failed(reason):
                let permanent: Bool = if case .failed = result { true } else { false }
                try db.execute("UPDATE outbox SET state = \(OutboxRowState.failed.sql), finished_at = ?, last_error = ? WHERE id = ?",
                               [.integer(nowMillis), .text(reason), .integer(id)])
                step.state = StepStateMachine.next(step.state, on: .fail)
                step.failure = "插件\(pluginName)：\(reason)"
                step.doneAt = nowMillis
                instance.steps[stepID] = step
                let why = permanent ? "插件报告失败" : "已尝试\(attempts)次（上限\(maxAttempts)次）"
                work.record(at: now, instance: instanceID, step: stepID, .stepFailed, "步骤失败（\(why)）：\(reason)",
                            fields: fields.merging(["reason": reason, "attempts": "\(attempts)", "max_attempts": "\(maxAttempts)"]) { $1 })
                let title = instance.definition.step(stepID)?.title ?? stepID
                let message = "流程#\(instanceID)的步骤“\(title)”（插件\(pluginName)）失败：\(reason)。处理后可重试：huaying retry \(instanceID) \(stepID)"
                let reminder = InstanceState.Reminder(
                    id: work.allocateReminderID(), step: stepID, message: message, dueAt: nowMillis, deadlineAt: nil, level: 0,
                    state: .open, repeatEvery: nil, nextRepeatAt: nil, nextEscalationAt: nil, repeats: 0, ackedBy: nil, ackedAt: nil,
                    note: nil, fields: [:], recipients: Self.unique(outbox.adminUsers).sorted().map { ($0, 0) })
                instance.reminders.append(reminder)
                work.put(instance)
                work.record(at: now, instance: instanceID, step: stepID, .reminderSent, message,
                            fields: ["reminder": "\(reminder.id)", "to": reminder.users.joined(separator: ","), "plugin": pluginName])
            }
            _ = try advance(instanceID, in: work, now: now)
        }
        rearm()
    }

    /// An admin's `retry INSTANCE STEP`: a failed step runs again now as a new effect (a new
    /// idempotency key); a completed instance whose step failed is reopened for it.
    public func retryStep(instance id: Int64, step stepID: String, actor: String) throws(EngineError) -> InstanceView {
        try storeCommand {
            try perform { work in
                guard var instance = try work.instance(id) else { throw EngineError(.unknownInstance, "no instance \(id)") }
                guard let step = instance.steps[stepID] else {
                    throw EngineError(.unknownStep, "instance \(id) has no step '\(stepID)'; its steps: \(instance.definition.steps.map(\.id.value).joined(separator: ", "))")
                }
                guard step.state == .failed else {
                    throw EngineError(.notFailed, "step '\(stepID)' of instance \(id) is \(step.state.rawValue); only a failed step can be retried")
                }
                if instance.status == .cancelled {
                    throw EngineError(.notRunning, "instance \(id) was cancelled; its steps cannot be retried")
                }
                let now = clock.now
                var fields = ["previous_failure": step.failure ?? ""]
                if instance.status == .completed {
                    instance.status = InstanceStatusMachine.next(instance.status, on: .reopen)
                    instance.endedAt = nil
                    fields["reopened"] = "true"
                }
                var row = step
                row.state = StepStateMachine.next(row.state, on: .retryByAdmin)
                row.failure = nil
                row.doneAt = nil
                row.dueAt = Millis.from(now)
                instance.steps[stepID] = row
                work.put(instance)
                work.record(at: now, actor: actor, instance: id, step: stepID, .stepRetried, "管理员重试步骤：\(instance.definition.step(stepID)?.title ?? stepID)", fields: fields)
                _ = try advance(id, in: work, now: now)
            }
            return try self.instance(id)
        }
    }
}

import Foundation
import SQLiteStore
import StepPluginAPI
import WorkflowModel

/// Moving one instance forward: derive due times, run what is due, in time order.
extension WorkflowEngine {
    struct AdvanceResult {
        var ran = 0
        var late = 0
        var longestLate: Int64 = 0
        var next: Int64?
    }

    /// Runs every item of one instance due at `now`, then returns its next due instant.
    /// - Important: Call inside a transaction.
    func advance(_ id: Int64, now: Date) throws -> AdvanceResult {
        var result = AdvanceResult()
        guard var instance = try InstanceState.load(id, db: db, registry: registry), instance.isRunning else { return result }
        let nowMillis = Millis.from(now)
        // Each pass runs the earliest due item; a completion may make more steps due at once.
        for _ in 0..<10_000 {
            let context = try derive(&instance)
            guard let item = earliestItem(of: instance), item.at <= nowMillis else { break }
            let late = nowMillis - item.at
            if late >= 1000 {
                result.late += 1
                result.longestLate = max(result.longestLate, late)
            }
            result.ran += 1
            switch item.kind {
            case let .step(stepID): try runStep(stepID, of: instance, context: context, now: now)
            case let .repeatReminder(index): try repeatReminder(index, of: instance, context: context, now: now)
            case let .escalate(index): try escalateReminder(index, of: instance, context: context, now: now)
            }
            instance = try InstanceState.load(id, db: db, registry: registry) ?? instance
        }
        try completeIfFinished(&instance, now: now)
        result.next = instance.isRunning ? instance.nextDue : nil
        return result
    }

    enum ItemKind {
        case step(String)
        case repeatReminder(Int)
        case escalate(Int)
    }

    private func earliestItem(of instance: InstanceState) -> (at: Int64, kind: ItemKind)? {
        var best: (at: Int64, order: Int, kind: ItemKind)?
        func consider(_ at: Int64?, _ order: Int, _ kind: ItemKind) {
            guard let at else { return }
            if best == nil || (at, order) < (best!.at, best!.order) { best = (at, order, kind) }
        }
        for step in instance.steps.values where step.state == "pending" {
            consider(step.dueAt, step.position, .step(step.id))
        }
        for (index, reminder) in instance.reminders.enumerated() where reminder.state == "open" {
            // Escalations before repeats at the same instant: the new level sees the reminder.
            consider(reminder.nextEscalationAt, -2, .escalate(index))
            consider(reminder.nextRepeatAt, -1, .repeatReminder(index))
        }
        return best.map { ($0.at, $0.kind) }
    }

    /// Derives the due instant of every pending step whose dependencies are done, from its
    /// formula, and stores any change. A step waiting for others has no due instant yet.
    /// - Returns: the instance's context (time environment, templates, org chart), for running
    ///   its items without binding its parameters again; due instants do not affect it.
    @discardableResult
    func derive(_ instance: inout InstanceState) throws -> InstanceContext {
        let context = try InstanceContext(support: support, instance: instance)
        for step in instance.definition.steps {
            let id = step.id.value
            guard var row = instance.steps[id], row.state == "pending" else { continue }
            let dependencies = step.dependencies.map(\.value)
            var due: Int64?
            var formula: String?
            if dependencies.allSatisfy({ instance.steps[$0]?.state == "done" }) {
                let readyAt = dependencies.compactMap { instance.steps[$0]?.doneAt }.max()
                if let at = step.at {
                    if let evaluated = try? at.value.evaluate(in: context.environment) {
                        due = max(Millis.from(evaluated.instant), readyAt ?? Int64.min)
                        formula = at.value.description
                    }
                } else if let readyAt {
                    due = readyAt
                    formula = "after " + dependencies.joined(separator: ", ")
                } else {
                    due = Millis.from(instance.startedAt)
                    formula = "start"
                }
                if row.attempts > 0, let retry = row.dueAt, let derived = due {
                    due = max(derived, retry)  // a retry keeps its later instant
                }
            }
            if due != row.dueAt || formula != row.dueFormula {
                row.dueAt = due
                row.dueFormula = formula
                instance.steps[id] = row
                try db.execute("UPDATE step SET due_at = ?, due_formula = ? WHERE instance = ? AND step = ?",
                               [due.map { .integer($0) } ?? .null, formula.map { .text($0) } ?? .null, .integer(instance.id), .text(id)])
            }
        }
        return context
    }

    private func runStep(_ stepID: String, of instance: InstanceState, context: InstanceContext, now: Date) throws {
        guard let definition = instance.definition.step(stepID), var row = instance.steps[stepID], let dueMillis = row.dueAt else { return }
        let due = Millis.date(dueMillis)
        let late = max(0, Millis.from(now) - dueMillis)
        var deadline: Date?
        if let expression = definition.deadline, let evaluated = try? expression.value.evaluate(in: context.environment) {
            deadline = evaluated.instant
        }
        row.attempts += 1
        let outcome: StepOutcome
        if let plugin = plugins[definition.uses.value] {
            outcome = plugin.run(StepContext(
                instanceID: instance.id, workflowID: instance.workflow, stepID: stepID, stepTitle: definition.title,
                unitID: instance.unit, now: now, due: due, deadline: deadline,
                input: definition.with.map(context.render), services: context))
        } else {
            outcome = .failed(reason: "plugin '\(definition.uses.value)' is not available in this daemon", retryAt: nil)
        }
        let lateText = late >= 1000 ? "（迟\(Self.duration(late / 1000))）" : ""
        var lateFields: [String: String] = [:]
        if late >= 1000 { lateFields["late_by_seconds"] = "\(late / 1000)" }

        switch outcome {
        case let .completed(note):
            try setStep(instance.id, stepID, state: "done", doneAt: now, late: late, attempts: row.attempts, deadline: deadline)
            try ledger.append(at: now, actor: "huayingd", instance: instance.id, step: stepID, event: "step.recorded",
                              text: note.text + lateText, fields: note.fields.merging(lateFields) { $1 })
        case let .awaitAcknowledgement(request):
            let ack = definition.ack
            var ackBy = deadline
            if let within = ack?.within {
                ackBy = within.added(to: due, calendar: context.calendar, timeZone: support.timeZone)
            }
            let nextRepeat = ack?.repeat.map { Millis.from($0.added(to: due, calendar: context.calendar, timeZone: support.timeZone)) }
            let nextEscalation = (ack?.escalate != nil) ? ackBy.map(Millis.from) : nil
            try db.execute("""
                INSERT INTO reminder (instance, step, message, due_at, deadline_at, level, state, repeat_every, next_repeat_at, next_escalation_at)
                VALUES (?, ?, ?, ?, ?, 0, 'open', ?, ?, ?)
                """, [.integer(instance.id), .text(stepID), .text(request.message), .integer(dueMillis),
                      ackBy.map { .integer(Millis.from($0)) } ?? .null, ack?.repeat.map { .text($0.description) } ?? .null,
                      nextRepeat.map { .integer($0) } ?? .null, nextEscalation.map { .integer($0) } ?? .null])
            let reminderID = db.lastInsertRowID
            for person in request.recipients {
                try db.execute("INSERT OR IGNORE INTO reminder_recipient (reminder, user, level) VALUES (?, ?, 0)",
                               [.integer(reminderID), .text(person.user)])
            }
            try setStep(instance.id, stepID, state: "waiting", doneAt: nil, late: late, attempts: row.attempts, deadline: deadline)
            var fields = lateFields
            fields["reminder"] = "\(reminderID)"
            fields["to"] = request.recipients.map(\.user).joined(separator: ",")
            if let ackBy { fields["ack_by"] = InstanceContext.local(ackBy, support.timeZone) }
            try ledger.append(at: now, actor: "huayingd", instance: instance.id, step: stepID, event: "reminder.sent",
                              text: request.message + lateText, fields: fields)
        case let .failed(reason, retryAt):
            if let retryAt {
                try db.execute("UPDATE step SET due_at = ?, attempts = ? WHERE instance = ? AND step = ?",
                               [.integer(Millis.from(retryAt)), .integer(Int64(row.attempts)), .integer(instance.id), .text(stepID)])
                try ledger.append(at: now, actor: "huayingd", instance: instance.id, step: stepID, event: "step.retry",
                                  text: "第\(row.attempts)次执行失败，将重试：\(reason)", fields: ["retry_at": InstanceContext.local(retryAt, support.timeZone)])
            } else {
                try setStep(instance.id, stepID, state: "failed", doneAt: now, late: late, attempts: row.attempts, deadline: deadline)
                try ledger.append(at: now, actor: "huayingd", instance: instance.id, step: stepID, event: "step.failed",
                                  text: "步骤失败：\(reason)", fields: lateFields)
                logger.warning("step failed", metadata: ["instance.id": "\(instance.id)", "step.id": "\(stepID)", "reason": "\(reason)"])
            }
        case .escalated:
            try setStep(instance.id, stepID, state: "failed", doneAt: now, late: late, attempts: row.attempts, deadline: deadline)
            try ledger.append(at: now, actor: "huayingd", instance: instance.id, step: stepID, event: "step.failed",
                              text: "步骤失败：plugin '\(definition.uses.value)' escalates only under ack.escalate", fields: [:])
        }
    }

    private func setStep(_ instance: Int64, _ step: String, state: String, doneAt: Date?, late: Int64, attempts: Int, deadline: Date?) throws {
        try db.execute("""
            UPDATE step SET state = ?, done_at = ?, late_ms = ?, attempts = ?, deadline_at = ? WHERE instance = ? AND step = ?
            """, [.text(state), doneAt.map { .integer(Millis.from($0)) } ?? .null, .integer(late), .integer(Int64(attempts)),
                  deadline.map { .integer(Millis.from($0)) } ?? .null, .integer(instance), .text(step)])
    }

    /// Repeats an unacknowledged reminder. Repeats missed while the daemon was down coalesce
    /// into this one (the ledger row says how many).
    private func repeatReminder(_ index: Int, of instance: InstanceState, context: InstanceContext, now: Date) throws {
        let reminder = instance.reminders[index]
        guard let every = reminder.repeatEvery, let first = reminder.nextRepeatAt,
              let offset = try? TimeOffset.parse(every) else { return }
        let nowMillis = Millis.from(now)
        var next = first
        var missed = 0
        while next <= nowMillis && missed < 100_000 {
            missed += 1
            let following = Millis.from(offset.added(to: Millis.date(next), calendar: context.calendar, timeZone: support.timeZone))
            if following <= next { break }  // a zero offset would loop forever
            next = following
        }
        let repeats = reminder.repeats + 1
        try db.execute("UPDATE reminder SET repeats = ?, next_repeat_at = ? WHERE id = ? AND state = 'open'",
                       [.integer(Int64(repeats)), .integer(next), .integer(reminder.id)])
        var fields = ["reminder": "\(reminder.id)", "repeat": "\(repeats)", "to": reminder.recipients.joined(separator: ",")]
        if missed > 1 { fields["coalesced"] = "\(missed)" }
        try ledger.append(at: now, actor: "huayingd", instance: instance.id, step: reminder.step, event: "reminder.repeated",
                          text: "再次提醒（第\(repeats)次）：\(reminder.message)" + (missed > 1 ? "（停机期间错过的\(missed)次提醒合并为一次）" : ""),
                          fields: fields)
    }

    /// Goes one level up the escalation chain through the step's `ack.escalate` plugin.
    private func escalateReminder(_ index: Int, of instance: InstanceState, context: InstanceContext, now: Date) throws {
        let reminder = instance.reminders[index]
        guard let due = reminder.nextEscalationAt,
              let policy = instance.definition.step(reminder.step)?.ack?.escalate else {
            try db.execute("UPDATE reminder SET next_escalation_at = NULL WHERE id = ?", [.integer(reminder.id)])
            return
        }
        let outcome: StepOutcome
        if let plugin = plugins[policy.uses.value] {
            outcome = plugin.run(StepContext(
                instanceID: instance.id, workflowID: instance.workflow, stepID: reminder.step,
                stepTitle: instance.definition.step(reminder.step)?.title ?? reminder.step, unitID: instance.unit,
                now: now, due: Millis.date(due), deadline: reminder.deadlineAt.map(Millis.date),
                input: policy.with.map(context.render),
                reminder: ReminderSnapshot(id: reminder.id, level: reminder.level, message: reminder.message, recipients: reminder.recipients),
                services: context))
        } else {
            outcome = .failed(reason: "plugin '\(policy.uses.value)' is not available in this daemon", retryAt: nil)
        }
        let late = Millis.from(now) - due
        var lateFields: [String: String] = [:]
        if late >= 1000 { lateFields["late_by_seconds"] = "\(late / 1000)" }
        switch outcome {
        case let .escalated(level, people, note, next):
            try db.execute("UPDATE reminder SET level = ?, next_escalation_at = ? WHERE id = ? AND state = 'open'",
                           [.integer(Int64(level)), next.map { .integer(Millis.from($0)) } ?? .null, .integer(reminder.id)])
            for person in people {
                try db.execute("INSERT OR IGNORE INTO reminder_recipient (reminder, user, level) VALUES (?, ?, ?)",
                               [.integer(reminder.id), .text(person.user), .integer(Int64(level))])
            }
            var fields = note.fields.merging(lateFields) { $1 }
            fields["reminder"] = "\(reminder.id)"
            if next == nil { fields["chain"] = "exhausted" }
            try ledger.append(at: now, actor: "huayingd", instance: instance.id, step: reminder.step, event: "reminder.escalated",
                              text: note.text + (next == nil ? "（升级链已到顶，提醒保持未办结）" : ""), fields: fields)
        case let .failed(reason, retryAt):
            try db.execute("UPDATE reminder SET next_escalation_at = ? WHERE id = ?",
                           [retryAt.map { .integer(Millis.from($0)) } ?? .null, .integer(reminder.id)])
            try ledger.append(at: now, actor: "huayingd", instance: instance.id, step: reminder.step, event: "escalation.failed",
                              text: "升级失败：\(reason)", fields: ["reminder": "\(reminder.id)"].merging(lateFields) { $1 })
        case .completed, .awaitAcknowledgement:
            try db.execute("UPDATE reminder SET next_escalation_at = NULL WHERE id = ?", [.integer(reminder.id)])
            try ledger.append(at: now, actor: "huayingd", instance: instance.id, step: reminder.step, event: "escalation.failed",
                              text: "升级失败：plugin '\(policy.uses.value)' did not escalate", fields: ["reminder": "\(reminder.id)"])
        }
    }

    /// Marks the instance completed once no step can still run.
    func completeIfFinished(_ instance: inout InstanceState, now: Date) throws {
        guard instance.isRunning, !instance.steps.isEmpty,
              instance.steps.values.allSatisfy({ ["done", "failed", "cancelled"].contains($0.state) }) else { return }
        let failed = instance.steps.values.filter { $0.state == "failed" }.count
        try db.execute("UPDATE instance SET state = 'completed', ended_at = ? WHERE id = ? AND state = 'running'",
                       [.integer(Millis.from(now)), .integer(instance.id)])
        instance.state = "completed"
        try ledger.append(at: now, actor: "huayingd", instance: instance.id, step: nil, event: "instance.completed",
                          text: failed == 0 ? "流程已完成" : "流程已结束，\(failed)个步骤失败",
                          fields: ["failed_steps": "\(failed)"])
        try startChained(from: instance, now: now)
    }

    /// `then:` — starts the instances a completed one asks for, in the same transaction as its
    /// completion (so exactly once). A chain that cannot start is recorded, never fatal.
    private func startChained(from instance: InstanceState, now: Date) throws {
        guard !instance.definition.then.isEmpty else { return }
        var context = try InstanceContext(support: support, instance: instance)
        for chain in instance.definition.then {
            let target = chain.workflow.value
            let items: [String?] = chain.forEach.map { ChainDefinition.elements(of: context.render($0)) } ?? [nil]
            if items.isEmpty {
                try ledger.append(at: now, actor: "huayingd", instance: instance.id, step: nil, event: "chain.skipped",
                                  text: "未启动\(target)：\(chain.forEach ?? "") 为空", fields: ["workflow": target])
            }
            for item in items {
                context.item = item
                var params: [String: String] = [:]
                for (name, template) in chain.params { params[name.value] = context.render(template) }
                guard let loaded = registry.current[target] else {
                    try ledger.append(at: now, actor: "huayingd", instance: instance.id, step: nil, event: "chain.failed",
                                      text: "无法启动\(target)：该流程未加载", fields: ["workflow": target, "item": item ?? ""])
                    continue
                }
                do {
                    try db.transaction {
                        let started = try createInstance(loaded, params: params, actor: "huayingd (then of #\(instance.id))", now: now)
                        try ledger.append(at: now, actor: "huayingd", instance: instance.id, step: nil, event: "chain.started",
                                          text: "已启动\(loaded.definition.title)" + (item.map { "：\($0)" } ?? ""),
                                          fields: ["workflow": target, "instance": "\(started)", "item": item ?? ""])
                    }
                } catch let error as EngineError {
                    try ledger.reloadHead()
                    try ledger.append(at: now, actor: "huayingd", instance: instance.id, step: nil, event: "chain.failed",
                                      text: "无法启动\(target)：\(error.message)", fields: ["workflow": target, "item": item ?? ""])
                }
            }
        }
    }
}

import ControlProtocol
import Foundation
import StepPluginAPI
import WorkflowModel

/// Moving one instance forward inside a unit of work: derive due times, run what is due, in
/// time order, all in memory (the unit of work writes the rows that changed).
extension WorkflowEngine {
    struct AdvanceResult {
        var ran = 0
        var late = 0
        var longestLate: Int64 = 0
    }

    /// Runs every item of one instance due at `now`, then notes its next due instant.
    func advance(_ id: Int64, in work: UnitOfWork, now: Date) throws -> AdvanceResult {
        var result = AdvanceResult()
        guard var instance = try work.instance(id), instance.isRunning else { return result }
        let nowMillis = Millis.from(now)
        // Each pass runs the earliest due item; a completion may make more steps due at once.
        for _ in 0..<10_000 {
            try derive(&instance, in: work)
            guard instance.isRunning, let item = earliestItem(of: instance), item.at <= nowMillis else { break }
            let late = nowMillis - item.at
            if late >= 1000 {
                result.late += 1
                result.longestLate = max(result.longestLate, late)
            }
            result.ran += 1
            let context = try work.context(for: instance)
            switch item.kind {
            case let .step(stepID): runStep(stepID, of: &instance, context: context, in: work, now: now)
            case let .repeatReminder(index): repeatReminder(index, of: &instance, context: context, in: work, now: now)
            case let .escalate(index): escalateReminder(index, of: &instance, context: context, in: work, now: now)
            }
        }
        try completeIfFinished(&instance, in: work, now: now)
        work.put(instance)
        work.reschedule(instance)
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
        for step in instance.steps.values where step.state == .pending {
            consider(step.dueAt, step.position, .step(step.id))
        }
        for (index, reminder) in instance.reminders.enumerated() where reminder.state == .open {
            // Escalations before repeats at the same instant: the new level sees the reminder.
            consider(reminder.nextEscalationAt, -2, .escalate(index))
            consider(reminder.nextRepeatAt, -1, .repeatReminder(index))
        }
        return best.map { ($0.at, $0.kind) }
    }

    /// Derives the due instant of every pending step whose dependencies are done, from its
    /// formula. A step waiting for others has no due instant yet. A formula that cannot be
    /// evaluated fails its step, with the reason in the ledger and in `show`.
    /// - Parameter force: derive again steps that already have a due instant (their inputs
    ///   changed: parameters, the calendar, the org chart); otherwise a derived instant stands,
    ///   since it depends only on parameters and on dependencies that are already done.
    func derive(_ instance: inout InstanceState, in work: UnitOfWork, force: Bool = false) throws {
        guard instance.isRunning else { return }
        if !force, !instance.steps.values.contains(where: { $0.state == .pending && $0.dueAt == nil }) { return }
        let context: InstanceContext
        do {
            context = try work.context(for: instance)
        } catch {
            // The parameters no longer bind (the org chart or calendar changed under the
            // instance): nothing can be derived; every step that could still run fails, saying why.
            for step in instance.definition.steps where instance.steps[step.id.value]?.state == .pending {
                fail(step.id.value, of: &instance, reason: "参数无法解析：\(error.message)", in: work, now: clock.now)
            }
            return
        }
        for step in instance.definition.steps {
            let id = step.id.value
            guard var row = instance.steps[id], row.state == .pending, force || row.dueAt == nil else { continue }
            let dependencies = step.dependencies.map(\.value)
            var due: Int64?
            var formula: String?
            if dependencies.allSatisfy({ instance.steps[$0]?.state == .done }) {
                let readyAt = dependencies.compactMap { instance.steps[$0]?.doneAt }.max()
                if let at = step.at {
                    do {
                        due = max(Millis.from(try at.value.evaluate(in: context.environment).instant), readyAt ?? Int64.min)
                        formula = at.value.description
                    } catch {
                        fail(id, of: &instance, reason: "时间公式“\(at.value.description)”无法计算：\(error)", in: work, now: clock.now)
                        continue
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
            }
        }
    }

    /// Fails a step that cannot run, recording why.
    func fail(_ stepID: String, of instance: inout InstanceState, reason: String, in work: UnitOfWork, now: Date) {
        guard var row = instance.steps[stepID], !row.state.isFinal else { return }
        row.state = StepStateMachine.next(row.state, on: .fail)
        row.failure = reason
        row.doneAt = Millis.from(now)
        instance.steps[stepID] = row
        work.record(at: now, instance: instance.id, step: stepID, .stepFailed, "步骤失败：\(reason)", fields: ["reason": reason])
        logger.warning("step failed", metadata: ["instance.id": "\(instance.id)", "step.id": "\(stepID)", "reason": "\(reason)"])
    }

    private func runStep(_ stepID: String, of instance: inout InstanceState, context: InstanceContext, in work: UnitOfWork, now: Date) {
        guard let definition = instance.definition.step(stepID), var row = instance.steps[stepID], let dueMillis = row.dueAt else { return }
        let due = Millis.date(dueMillis)
        let nowMillis = Millis.from(now)
        let late = max(0, nowMillis - dueMillis)
        var deadline: Date?
        if let expression = definition.deadline {
            do {
                deadline = try expression.value.evaluate(in: context.environment).instant
            } catch {
                fail(stepID, of: &instance, reason: "期限公式“\(expression.value.description)”无法计算：\(error)", in: work, now: now)
                return
            }
        }
        row.attempts += 1
        row.lateMillis = late
        row.deadlineAt = deadline.map(Millis.from)
        let ackBy = Self.acknowledgementDeadline(definition, due: due, deadline: deadline, context: context, zone: support.timeZone)
        var context = context
        context.stepTimes = (deadline, ackBy)
        if plugins[definition.uses.value] == nil, let external = outbox.plugins[definition.uses.value] {
            hand(stepID, of: &instance, row: row, definition: definition, context: context, due: due, deadline: deadline,
                 plugin: external, in: work, now: now)
            return
        }
        let outcome: StepOutcome
        if let plugin = plugins[definition.uses.value] {
            outcome = plugin.run(StepContext(
                instanceID: instance.id, workflowID: instance.workflow, stepID: stepID, stepTitle: definition.title,
                unitID: instance.unit, now: now, due: due, deadline: deadline,
                input: definition.with.map(context.render), services: context))
        } else {
            outcome = .failed(reason: "plugin '\(definition.uses.value)' is not available in this daemon", retryAt: nil)
        }
        // Late because the daemon was down, or because the instance was started after the date.
        let startedLate = Millis.from(instance.startedAt) > dueMillis
        let lateText = late < 1000 ? "" : startedLate ? "（流程启动晚于应办时间\(Self.duration(late / 1000))）" : "（迟\(Self.duration(late / 1000))）"
        var itemFields = ["due": InstanceContext.local(due, support.timeZone)]
        if late >= 1000 {
            itemFields["late_by_seconds"] = "\(late / 1000)"
            itemFields["late_because"] = startedLate ? "started_after_due" : "daemon_down"
        }

        switch outcome {
        case let .completed(note):
            row.state = StepStateMachine.next(row.state, on: .complete)
            row.doneAt = nowMillis
            instance.steps[stepID] = row
            work.record(at: now, instance: instance.id, step: stepID, .stepRecorded, note.text + lateText,
                        fields: note.fields.merging(itemFields) { $1 })
            startStepChains(of: stepID, of: instance, in: work, now: now)
        case let .awaitAcknowledgement(request):
            let ack = definition.ack
            let nextRepeat = ack?.repeat.map { Millis.from($0.added(to: due, calendar: context.calendar, timeZone: support.timeZone)) }
            let reminder = InstanceState.Reminder(
                id: work.allocateReminderID(), step: stepID, message: request.message, dueAt: dueMillis,
                deadlineAt: ackBy.map(Millis.from), level: 0, state: .open, repeatEvery: ack?.repeat?.description,
                nextRepeatAt: nextRepeat, nextEscalationAt: ack?.escalate != nil ? ackBy.map { Millis.from(firstEscalation($0, instance, context)) } : nil,
                repeats: 0, ackedBy: nil, ackedAt: nil, note: nil, fields: [:],
                recipients: Self.unique(request.recipients.map(\.user)).sorted().map { ($0, 0) })
            instance.reminders.append(reminder)
            row.state = StepStateMachine.next(row.state, on: .awaitAcknowledgement)
            instance.steps[stepID] = row
            var fields = itemFields
            fields["reminder"] = "\(reminder.id)"
            fields["to"] = reminder.users.joined(separator: ",")
            if let ackBy { fields["ack_by"] = InstanceContext.local(ackBy, support.timeZone) }
            fields.merge(provisionalFields([due, ackBy, deadline], workflow: instance.workflow)) { $1 }
            work.record(at: now, instance: instance.id, step: stepID, .reminderSent, request.message + lateText, fields: fields)
        case let .failed(reason, retryAt?):
            row.dueAt = Millis.from(retryAt)
            instance.steps[stepID] = row
            work.record(at: now, instance: instance.id, step: stepID, .stepRetry, "第\(row.attempts)次执行失败，将重试：\(reason)",
                        fields: ["retry_at": InstanceContext.local(retryAt, support.timeZone), "reason": reason])
        case let .failed(reason, nil):
            instance.steps[stepID] = row
            fail(stepID, of: &instance, reason: reason, in: work, now: now)
        case .escalated:
            instance.steps[stepID] = row
            fail(stepID, of: &instance, reason: "plugin '\(definition.uses.value)' escalates only under ack.escalate", in: work, now: now)
        }
    }

    /// When a step's acknowledgement is due: its due instant + `ack.within`, else its deadline.
    static func acknowledgementDeadline(_ step: StepDefinition, due: Date, deadline: Date?, context: InstanceContext, zone: TimeZone) -> Date? {
        guard let within = step.ack?.within else { return deadline }
        return within.added(to: due, calendar: context.calendar, timeZone: zone)
    }

    /// When the first escalation after `ackBy` is sent (EscalationTime: not at 23:59 on a day off).
    func firstEscalation(_ ackBy: Date, _ instance: InstanceState, _ context: InstanceContext) -> Date {
        EscalationTime.sent(at: ackBy, calendar: context.calendar, timeZone: support.timeZone, workdayStart: instance.definition.defaultTime)
    }

    /// Repeats an unacknowledged reminder. Repeats missed while the daemon was down coalesce
    /// into this one (the ledger row says how many). Repeats end with `ack.max_repeats`, at
    /// `ack.repeat_until`, or by default once the last escalation level has been reached and
    /// the acknowledgement deadline has passed (the reminder stays open and overdue).
    private func repeatReminder(_ index: Int, of instance: inout InstanceState, context: InstanceContext, in work: UnitOfWork, now: Date) {
        var reminder = instance.reminders[index]
        let nowMillis = Millis.from(now)
        let policy = instance.definition.step(reminder.step)?.ack
        guard let every = reminder.repeatEvery, let first = reminder.nextRepeatAt, let offset = try? TimeOffset.parse(every),
              !repeatsEnded(reminder, policy: policy, context: context, at: nowMillis) else {
            reminder.nextRepeatAt = nil
            instance.reminders[index] = reminder
            return
        }
        var next = first
        var missed = 0
        while next <= nowMillis && missed < 100_000 {
            missed += 1
            let following = Millis.from(offset.added(to: Millis.date(next), calendar: context.calendar, timeZone: support.timeZone))
            if following <= next { break }  // a zero offset would loop forever
            next = following
        }
        reminder.repeats += 1
        reminder.nextRepeatAt = repeatsEnded(reminder, policy: policy, context: context, at: next) ? nil : next
        instance.reminders[index] = reminder
        var fields = ["reminder": "\(reminder.id)", "repeat": "\(reminder.repeats)", "to": reminder.users.joined(separator: ","),
                      "due": InstanceContext.local(Millis.date(first), support.timeZone)]
        if missed > 1 { fields["coalesced"] = "\(missed)" }
        if reminder.nextRepeatAt == nil { fields["repeats_end"] = "true" }
        work.record(at: now, instance: instance.id, step: reminder.step, .reminderRepeated,
                    "再次提醒（第\(reminder.repeats)次）：\(reminder.message)" + (missed <= 1 ? ""
                        : Millis.from(instance.startedAt) > first ? "（流程启动晚于应办时间，错过的\(missed)次提醒合并为一次）"
                        : "（停机期间错过的\(missed)次提醒合并为一次）"),
                    fields: fields)
    }

    /// Whether a reminder should not repeat at `instant` (ms).
    private func repeatsEnded(_ reminder: InstanceState.Reminder, policy: AckPolicy?, context: InstanceContext, at instant: Int64) -> Bool {
        if let max = policy?.maxRepeats, reminder.repeats >= max { return true }
        if let until = policy?.repeatUntil {
            if let end = try? until.value.evaluate(in: context.environment).instant { return instant > Millis.from(end) }
            return true  // lint checks the formula; one that fails at run time stops repeats rather than spamming
        }
        let chainDone = reminder.nextEscalationAt == nil
        guard let deadline = reminder.deadlineAt else { return false }
        return chainDone && instant > deadline
    }

    /// Goes one level up the escalation chain through the step's `ack.escalate` plugin.
    private func escalateReminder(_ index: Int, of instance: inout InstanceState, context: InstanceContext, in work: UnitOfWork, now: Date) {
        var reminder = instance.reminders[index]
        guard let due = reminder.nextEscalationAt, let step = instance.definition.step(reminder.step),
              let policy = step.ack?.escalate else {
            reminder.nextEscalationAt = nil
            instance.reminders[index] = reminder
            return
        }
        let outcome: StepOutcome
        if let plugin = plugins[policy.uses.value] {
            outcome = plugin.run(StepContext(
                instanceID: instance.id, workflowID: instance.workflow, stepID: reminder.step, stepTitle: step.title,
                unitID: instance.unit, now: now, due: Millis.date(due), deadline: reminder.deadlineAt.map(Millis.date),
                input: policy.with.map(context.render),
                reminder: ReminderSnapshot(id: reminder.id, level: reminder.level, message: reminder.message, recipients: reminder.users),
                services: context))
        } else {
            outcome = .failed(reason: "plugin '\(policy.uses.value)' is not available in this daemon", retryAt: nil)
        }
        let late = Millis.from(now) - due
        var itemFields = ["reminder": "\(reminder.id)", "due": InstanceContext.local(Millis.date(due), support.timeZone)]
        if late >= 1000 { itemFields["late_by_seconds"] = "\(late / 1000)" }
        switch outcome {
        case let .escalated(level, people, note, next):
            reminder.level = level
            reminder.nextEscalationAt = next.map(Millis.from)
            let known = Set(reminder.users)
            for user in Self.unique(people.map(\.user)).sorted() where !known.contains(user) {
                reminder.recipients.append((user, level))
            }
            instance.reminders[index] = reminder
            var fields = note.fields.merging(itemFields) { $1 }
            if next == nil { fields["chain"] = "exhausted" }
            work.record(at: now, instance: instance.id, step: reminder.step, .reminderEscalated,
                        note.text + (next == nil ? "（升级链已到顶，提醒保持未办结）" : ""), fields: fields)
        case let .failed(reason, retryAt):
            reminder.nextEscalationAt = retryAt.map(Millis.from)
            instance.reminders[index] = reminder
            work.record(at: now, instance: instance.id, step: reminder.step, .escalationFailed, "升级失败：\(reason)", fields: itemFields)
        case .completed, .awaitAcknowledgement:
            reminder.nextEscalationAt = nil
            instance.reminders[index] = reminder
            work.record(at: now, instance: instance.id, step: reminder.step, .escalationFailed,
                        "升级失败：plugin '\(policy.uses.value)' did not escalate", fields: itemFields)
        }
    }

    /// Marks the instance completed once no step can still run.
    func completeIfFinished(_ instance: inout InstanceState, in work: UnitOfWork, now: Date) throws {
        guard instance.isRunning, !instance.steps.isEmpty, instance.steps.values.allSatisfy({ $0.state.isFinal }) else { return }
        let failed = instance.steps.values.filter { $0.state == .failed }.count
        instance.status = InstanceStatusMachine.next(instance.status, on: .complete)
        instance.endedAt = Millis.from(now)
        work.record(at: now, instance: instance.id, step: nil, .instanceCompleted,
                    failed == 0 ? "流程已完成" : "流程已结束，\(failed)个步骤失败", fields: ["failed_steps": "\(failed)"])
        try startChained(from: instance, in: work, now: now)
    }

    /// `then:` — starts the instances a completed one asks for (EngineChains.swift).
    private func startChained(from instance: InstanceState, in work: UnitOfWork, now: Date) throws {
        guard !instance.definition.then.isEmpty else { return }
        startChains(instance.definition.then, from: instance, step: nil, context: try work.context(for: instance), in: work, now: now)
    }

    /// The names in order, each once.
    static func unique(_ users: [String]) -> [String] {
        var seen = Set<String>()
        return users.filter { seen.insert($0).inserted }
    }
}

import ControlProtocol
import Foundation
import StepPluginAPI
import WorkflowModel

/// What a started instance did at once.
public struct StartReport: Sendable, Equatable {
    public var id: Int64
    /// Steps whose due time had already passed when it started (they ran at once, marked late).
    public var pastDueSteps: Int
    /// The years of its pending and open dates that the calendar lacks (EngineProvisional.swift).
    public var provisionalYears: [Int] = []
}

/// What people ask the engine to do. Each command is one unit of work, including the items it
/// makes due at once (a step that starts at `start`, a record that follows an acknowledgement).
extension WorkflowEngine {
    /// Starts an instance of the current version of a workflow, at once, in its own
    /// transaction (the daemon queues starts instead: `enqueueStart`).
    /// - Parameter actor: who asked (recorded in the ledger).
    /// - Throws: `EngineError` naming an unknown workflow (with the known ones) or every bad parameter.
    public func start(workflow: String, params: [String: String], actor: String) throws(EngineError) -> Int64 {
        let report: StartReport = try storeCommand { try perform { work in try startInstance(workflow: workflow, params: params, actor: actor, in: work) } }
        logger.info("instance started", metadata: ["instance.id": "\(report.id)", "workflow": "\(workflow)", "actor": "\(actor)"])
        return report.id
    }

    /// Checks the parameters, creates the instance with a row per step in `work`, and runs
    /// what is due at once. Throws before changing `work` when the start is refused.
    func startInstance(workflow: String, params: [String: String], actor: String, in work: UnitOfWork, now: Date? = nil) throws -> StartReport {
        guard let loaded = registry.current[workflow] else {
            let known = registry.current.keys.sorted().joined(separator: ", ")
            throw EngineError(.unknownWorkflow, "unknown workflow '\(workflow)'; known workflows: \(known.isEmpty ? "(none loaded)" : known)")
        }
        let now = now ?? clock.now
        // Bound once: the check of the params is the binding the unit of work then uses.
        let environment: TimeEnvironment
        do {
            environment = try support.planner(for: loaded.definition).bind(params, for: loaded.definition, start: now).environment
        } catch {
            throw EngineError(.badParams, error.messages.joined(separator: "; "))
        }
        let links = try linkedInstances(params, of: loaded.definition, in: work)
        var steps: [String: InstanceState.Step] = [:]
        for (position, step) in loaded.definition.steps.enumerated() {
            steps[step.id.value] = InstanceState.Step(id: step.id.value, position: position, state: .pending)
        }
        let instance = InstanceState(
            id: work.allocateInstanceID(), workflow: loaded.definition.id.value, version: loaded.version, definition: loaded.definition,
            unit: params["unit"], params: params, status: .running, startedAt: now, startedBy: actor,
            endedAt: nil, cancelReason: nil, steps: steps, reminders: [])
        work.create(instance)
        work.seed(instance.id, bound: environment)
        var fields = params
        fields["version"] = String(loaded.version.prefix(12))
        work.record(at: now, actor: actor, instance: instance.id, step: nil, .instanceStarted, "启动流程：\(loaded.definition.title)", fields: fields)
        recordLinks(links, from: instance, actor: actor, in: work, now: now)
        let result = try advance(instance.id, in: work, now: now)
        var report = StartReport(id: instance.id, pastDueSteps: result.late)
        if let started = try work.instance(instance.id) {
            report.provisionalYears = try provisionalYears(of: started, context: started.isRunning ? try work.context(for: started) : nil).all
        }
        return report
    }

    /// Changes parameters of a running instance: pending due times are derived again from
    /// their formulas, and every open reminder is brought in line with the new dates (message,
    /// acknowledgement deadline, repeats, escalation), each change recorded in the ledger.
    public func update(instance id: Int64, params changes: [String: String], actor: String) throws(EngineError) -> UpdateReport {
        try storeCommand {
            try perform { work in
                var instance = try runningInstance(id, in: work, for: "updated")
                var params = instance.params
                var changed: [UpdateReport.Change] = []
                for (name, value) in changes.sorted(by: { $0.key < $1.key }) where params[name] != value {
                    changed.append(.init(param: name, old: params[name], new: value))
                    params[name] = value
                }
                do {
                    _ = try support.planner(for: instance.definition).bind(params, for: instance.definition, start: instance.startedAt)
                } catch let error as PlanError {
                    throw EngineError(.badParams, error.messages.joined(separator: "; "))
                }
                let now = clock.now
                let before = instance.steps.mapValues(\.dueAt)
                instance.params = params
                instance.unit = params["unit"]
                work.rebind(id)
                try derive(&instance, in: work, force: true)
                let rederived = instance.definition.steps.map(\.id.value).compactMap { step -> UpdateReport.Rederived? in
                    let old = before[step] ?? nil, new = instance.steps[step]?.dueAt
                    return old == new ? nil : .init(step: step, oldDue: old.map(Millis.date), newDue: new.map(Millis.date))
                }
                var fields: [String: String] = [:]
                for change in changed { fields["param.\(change.param)"] = "\(change.old ?? "") → \(change.new)" }
                for item in rederived {
                    fields["due.\(item.step)"] = item.newDue.map { InstanceContext.local($0, support.timeZone) } ?? "-"
                }
                work.record(at: now, actor: actor, instance: id, step: nil, .instanceUpdated,
                            "修改参数：" + changed.map { "\($0.param) \($0.old ?? "（无）") → \($0.new)" }.joined(separator: "；"),
                            fields: fields)
                let rescheduled = try rescheduleOpenReminders(of: &instance, in: work, actor: actor, now: now)
                work.put(instance)
                _ = try advance(id, in: work, now: now)
                let current = try work.instance(id) ?? instance
                let provisional = try provisionalYears(of: current, context: current.isRunning ? try work.context(for: current) : nil)
                return UpdateReport(id: id, changed: changed, rederived: rederived, reminders: rescheduled, provisionalYears: provisional.all)
            }
        }
    }

    /// Re-renders each open reminder of an instance whose parameters changed, and derives its
    /// acknowledgement deadline, next repeat and next escalation again from the new dates.
    func rescheduleOpenReminders(of instance: inout InstanceState, in work: UnitOfWork, actor: String, now: Date) throws -> [UpdateReport.Rescheduled] {
        var result: [UpdateReport.Rescheduled] = []
        let context = try work.context(for: instance)
        let nowMillis = Millis.from(now)
        for index in instance.reminders.indices where instance.reminders[index].state == .open {
            var reminder = instance.reminders[index]
            guard let step = instance.definition.step(reminder.step) else { continue }
            var due = Millis.date(reminder.dueAt)
            if let at = step.at, let evaluated = try? at.value.evaluate(in: context.environment) { due = evaluated.instant }
            var deadline: Date?
            if let expression = step.deadline { deadline = try? expression.value.evaluate(in: context.environment).instant }
            let ackBy = Self.acknowledgementDeadline(step, due: due, deadline: deadline, context: context, zone: support.timeZone)
            var message = reminder.message
            var stepContext = context
            stepContext.stepTimes = (deadline, ackBy)
            if let plugin = plugins[step.uses.value], case let .awaitAcknowledgement(request) = plugin.run(StepContext(
                instanceID: instance.id, workflowID: instance.workflow, stepID: step.id.value, stepTitle: step.title,
                unitID: instance.unit, now: now, due: due, deadline: deadline, input: step.with.map(stepContext.render), services: stepContext)) {
                message = request.message
            }
            var nextRepeat: Int64?
            if let every = step.ack?.repeat {
                var next = due
                var turns = 0  // a `where` on a for loop skips turns but runs all 100,000 of them
                while Millis.from(next) <= nowMillis, turns < 100_000 {
                    let following = every.added(to: next, calendar: context.calendar, timeZone: support.timeZone)
                    if following <= next { break }
                    next = following
                    turns += 1
                }
                nextRepeat = reminder.nextRepeatAt == nil && reminder.repeats > 0 ? nil : Millis.from(next)
            }
            var nextEscalation: Int64?
            if let policy = step.ack?.escalate, let ackBy, reminder.nextEscalationAt != nil || reminder.level == 0 {
                var at = firstEscalation(ackBy, instance, context)
                if reminder.level > 0, let every = policy.every {
                    for _ in 0..<reminder.level { at = every.added(to: at, calendar: context.calendar, timeZone: support.timeZone) }
                }
                nextEscalation = Millis.from(at)
            }
            let newDeadline = ackBy.map(Millis.from)
            guard message != reminder.message || newDeadline != reminder.deadlineAt || Millis.from(due) != reminder.dueAt
                || nextEscalation != reminder.nextEscalationAt || nextRepeat != reminder.nextRepeatAt else { continue }
            let change = UpdateReport.Rescheduled(
                reminder: reminder.id, step: reminder.step, oldMessage: reminder.message, newMessage: message,
                oldAckBy: reminder.deadlineAt.map(Millis.date), newAckBy: ackBy)
            reminder.message = message
            reminder.dueAt = Millis.from(due)
            reminder.deadlineAt = newDeadline
            reminder.nextRepeatAt = nextRepeat
            reminder.nextEscalationAt = nextEscalation
            instance.reminders[index] = reminder
            var fields = ["reminder": "\(reminder.id)", "to": reminder.users.joined(separator: ",")]
            fields["ack_by"] = ackBy.map { InstanceContext.local($0, support.timeZone) } ?? "-"
            fields["old_ack_by"] = change.oldAckBy.map { InstanceContext.local($0, support.timeZone) } ?? "-"
            fields.merge(provisionalFields([due, ackBy], workflow: instance.workflow)) { $1 }
            work.record(at: now, actor: actor, instance: instance.id, step: reminder.step, .reminderRescheduled,
                        "提醒已按新参数更新：\(message)", fields: fields)
            result.append(change)
        }
        return result
    }

    /// Cancels a running instance with its open reminders and pending steps.
    public func cancel(instance id: Int64, reason: String, actor: String) throws(EngineError) -> (reminders: Int, steps: Int) {
        try storeCommand {
            try perform { work in
                var instance = try runningInstance(id, in: work, for: "cancelled")
                let now = clock.now
                var reminders = 0, steps = 0
                for index in instance.reminders.indices where instance.reminders[index].state == .open {
                    instance.reminders[index].state = ReminderStateMachine.next(.open, on: .cancel)
                    instance.reminders[index].nextRepeatAt = nil
                    instance.reminders[index].nextEscalationAt = nil
                    reminders += 1
                }
                for (stepID, step) in instance.steps where !step.state.isFinal {
                    instance.steps[stepID]?.state = StepStateMachine.next(step.state, on: .cancel)
                    instance.steps[stepID]?.doneAt = Millis.from(now)
                    steps += 1
                }
                instance.status = InstanceStatusMachine.next(instance.status, on: .cancel)
                instance.endedAt = Millis.from(now)
                instance.cancelReason = reason
                work.put(instance)
                work.record(at: now, actor: actor, instance: id, step: nil, .instanceCancelled, "撤销流程：\(reason)",
                            fields: ["reminders": "\(reminders)", "steps": "\(steps)"])
                return (reminders, steps)
            }
        }
    }

    /// Acknowledges a reminder: closes it, cancels its repeats and escalations, completes its
    /// step, and runs what that makes due — all in one unit of work.
    /// - Parameters:
    ///   - user: whose acknowledgement this is; must be a recipient (at any level).
    ///   - actor: who asked (differs from `user` when an admin acts for someone).
    public func acknowledge(reminder id: Int64, user: String, actor: String, note: String?, fields: [String: String]) throws(EngineError) -> ReminderView {
        try storeCommand {
            try perform { work in
                guard let instanceID = try store.instanceOfReminder(id), var instance = try work.instance(instanceID),
                      let index = instance.reminderIndex(id) else {
                    throw EngineError(.unknownReminder, "no reminder \(id)")
                }
                var reminder = instance.reminders[index]
                if !fields.isEmpty {
                    let declared = instance.definition.step(reminder.step)?.ack?.fields ?? []
                    let unknown = fields.keys.filter { !declared.contains($0) }.sorted()
                    if !unknown.isEmpty {
                        throw EngineError(.unknownField, "step '\(reminder.step)' takes \(declared.isEmpty ? "no fields" : "the fields \(declared.joined(separator: ", "))") with its acknowledgement; not \(unknown.joined(separator: ", "))")
                    }
                }
                try checkDateFields(fields, of: reminder.step, in: instance.definition, now: clock.now)
                let (fields, links) = try requiredResults(fields, of: reminder.step, of: instance, in: work)
                switch reminder.state {
                case .acked:
                    let when = reminder.ackedAt.map { InstanceContext.local(Millis.date($0), support.timeZone) } ?? "?"
                    throw EngineError(.alreadyAcknowledged, "reminder \(id) was already acknowledged by \(reminder.ackedBy ?? "?") at \(when)")
                case .cancelled:
                    throw EngineError(.cancelled, "reminder \(id) was cancelled with its instance")
                case .open: break
                }
                // A substitute acknowledges on behalf of the absent recipient (EngineAbsences.swift).
                var onBehalfOf: String?
                if !reminder.users.contains(user) {
                    onBehalfOf = try standingInFor(user).first { reminder.users.contains($0) }
                    guard onBehalfOf != nil else {
                        throw EngineError(.notRecipient, "reminder \(id) is addressed to \(reminder.users.joined(separator: ", ")), not to \(user)")
                    }
                }
                let now = clock.now
                reminder.state = ReminderStateMachine.next(reminder.state, on: .acknowledge)
                reminder.ackedBy = user
                reminder.ackedAt = Millis.from(now)
                reminder.note = note
                reminder.fields = fields
                reminder.nextRepeatAt = nil
                reminder.nextEscalationAt = nil
                instance.reminders[index] = reminder
                var completed = false
                if let step = instance.steps[reminder.step], step.state == .waiting {
                    completed = true
                    instance.steps[reminder.step]?.state = StepStateMachine.next(step.state, on: .acknowledge)
                    instance.steps[reminder.step]?.doneAt = Millis.from(now)
                }
                var ledgerFields = fields
                ledgerFields["reminder"] = "\(id)"
                if let note { ledgerFields["note"] = note }
                if actor != user { ledgerFields["acting_for"] = user }
                if let onBehalfOf { ledgerFields["on_behalf_of"] = onBehalfOf }
                work.put(instance)
                let confirmed = onBehalfOf.map { "由 \(user) 代 \($0) 确认" } ?? "已确认"
                work.record(at: now, actor: actor == user ? user : "\(actor) as \(user)", instance: instanceID, step: reminder.step,
                            .reminderAcknowledged, confirmed + (note.map { "：\($0)" } ?? ""), fields: ledgerFields)
                recordLinks(links, from: instance, actor: actor, in: work, now: now)
                if completed {
                    startStepChains(of: reminder.step, of: instance, in: work, now: now)
                }
                _ = try advance(instanceID, in: work, now: now)
            }
            return try reminderViews(where: "r.id = ?", [.integer(id)]).first!
        }
    }

    /// The instance a command changes, refused when it does not exist or has ended.
    private func runningInstance(_ id: Int64, in work: UnitOfWork, for change: String) throws -> InstanceState {
        guard let instance = try work.instance(id) else {
            throw EngineError(.unknownInstance, "no instance \(id)")
        }
        guard instance.isRunning else {
            throw EngineError(.notRunning, "instance \(id) is already \(instance.status.rawValue); only running instances can be \(change)")
        }
        return instance
    }

    /// Runs a command, turning store failures into `EngineError` (the unit of work was dropped,
    /// so nothing needs restoring), and re-arms the loop for what it made due.
    func storeCommand<T>(_ body: () throws -> T) throws(EngineError) -> T {
        defer { rearm() }
        do {
            return try body()
        } catch let error as EngineError {
            throw error
        } catch {
            logger.error("command rolled back", metadata: ["error": "\(error)"])
            throw EngineError(.storeError, "the change was rolled back: \(error)")
        }
    }
}

/// What `update` changed.
public struct UpdateReport: Sendable, Equatable {
    public struct Change: Sendable, Equatable {
        public var param: String
        public var old: String?
        public var new: String
    }
    public struct Rederived: Sendable, Equatable {
        public var step: String
        public var oldDue: Date?
        public var newDue: Date?
    }
    /// An open reminder brought in line with the new parameters.
    public struct Rescheduled: Sendable, Equatable {
        public var reminder: Int64
        public var step: String
        public var oldMessage: String
        public var newMessage: String
        public var oldAckBy: Date?
        public var newAckBy: Date?
    }
    public var id: Int64
    public var changed: [Change]
    public var rederived: [Rederived]
    public var reminders: [Rescheduled] = []
    /// The years of the instance's open dates that the calendar lacks (its dates there are
    /// provisional), computed in the update's unit of work.
    public var provisionalYears: [Int] = []
}

import Foundation
import SQLiteStore
import WorkflowModel

/// What people ask the engine to do. Each command is one transaction, including the items it
/// makes due at once (a step that starts at `start`, a record that follows an acknowledgement).
extension WorkflowEngine {
    /// Starts an instance of the current version of a workflow.
    /// - Parameter actor: who asked (recorded in the ledger).
    /// - Throws: `EngineError` naming an unknown workflow (with the known ones) or every bad parameter.
    public func start(workflow: String, params: [String: String], actor: String) throws(EngineError) -> Int64 {
        guard let loaded = registry.current[workflow] else {
            let known = registry.current.keys.sorted().joined(separator: ", ")
            throw EngineError(code: "unknown_workflow", "unknown workflow '\(workflow)'; known workflows: \(known.isEmpty ? "(none loaded)" : known)")
        }
        let id: Int64 = try storeCommand { try createInstance(loaded, params: params, actor: actor, now: clock.now) }
        logger.info("instance started", metadata: ["instance.id": "\(id)", "workflow": "\(workflow)", "actor": "\(actor)"])
        rearm()
        return id
    }

    /// Checks the parameters, stores the instance with a row per step, and runs what is due
    /// at once. The caller's transaction makes it all or nothing.
    func createInstance(_ loaded: DefinitionRegistry.Loaded, params: [String: String], actor: String, now: Date) throws -> Int64 {
        do {
            _ = try support.planner(for: loaded.definition).bind(params, for: loaded.definition, start: now)
        } catch {
            throw EngineError(code: "bad_params", error.messages.joined(separator: "; "))
        }
        let workflow = loaded.definition.id.value
        try db.execute("""
            INSERT INTO instance (workflow, version, unit, params, state, started_at, started_by)
            VALUES (?, ?, ?, ?, 'running', ?, ?)
            """, [.text(workflow), .text(loaded.version), params["unit"].map { .text($0) } ?? .null,
                  .text(Ledger.json(params)), .integer(Millis.from(now)), .text(actor)])
        let id = db.lastInsertRowID
        for (position, step) in loaded.definition.steps.enumerated() {
            try db.execute("INSERT INTO step (instance, step, position, state) VALUES (?, ?, ?, 'pending')",
                           [.integer(id), .text(step.id.value), .integer(Int64(position))])
        }
        var fields = params
        fields["version"] = String(loaded.version.prefix(12))
        try ledger.append(at: now, actor: actor, instance: id, step: nil, event: "instance.started",
                          text: "启动流程：\(loaded.definition.title)", fields: fields)
        let result = try advance(id, now: now)
        schedule(id, at: result.next)
        return id
    }

    /// Changes parameters of a running instance; pending due times are derived again from
    /// their formulas and the change is recorded.
    public func update(instance id: Int64, params changes: [String: String], actor: String) throws(EngineError) -> UpdateReport {
        let report: UpdateReport = try storeCommand {
            guard var instance = try InstanceState.load(id, db: db, registry: registry) else {
                throw EngineError(code: "unknown_instance", "no instance \(id)")
            }
            guard instance.isRunning else {
                throw EngineError(code: "not_running", "instance \(id) is \(instance.state); only running instances can be updated")
            }
            var params = instance.params
            var changed: [UpdateReport.Change] = []
            for (name, value) in changes.sorted(by: { $0.key < $1.key }) where params[name] != value {
                changed.append(.init(param: name, old: params[name], new: value))
                params[name] = value
            }
            do {
                _ = try support.planner(for: instance.definition).bind(params, for: instance.definition, start: instance.startedAt)
            } catch let error as PlanError {
                throw EngineError(code: "bad_params", error.messages.joined(separator: "; "))
            }
            let before = instance.steps.mapValues(\.dueAt)
            instance.params = params
            try db.execute("UPDATE instance SET params = ?, unit = ? WHERE id = ?",
                           [.text(Ledger.json(params)), params["unit"].map { .text($0) } ?? .null, .integer(id)])
            try derive(&instance)
            let rederived = instance.definition.steps.map(\.id.value).compactMap { step -> UpdateReport.Rederived? in
                let old = before[step] ?? nil, new = instance.steps[step]?.dueAt
                return old == new ? nil : .init(step: step, oldDue: old.map(Millis.date), newDue: new.map(Millis.date))
            }
            var fields: [String: String] = [:]
            for change in changed { fields["param.\(change.param)"] = "\(change.old ?? "") → \(change.new)" }
            for item in rederived {
                fields["due.\(item.step)"] = item.newDue.map { InstanceContext.local($0, support.timeZone) } ?? "-"
            }
            try ledger.append(at: clock.now, actor: actor, instance: id, step: nil, event: "instance.updated",
                              text: "修改参数：" + changed.map { "\($0.param) \($0.old ?? "（无）") → \($0.new)" }.joined(separator: "；"),
                              fields: fields)
            let result = try advance(id, now: clock.now)
            schedule(id, at: result.next)
            return UpdateReport(id: id, changed: changed, rederived: rederived)
        }
        rearm()
        return report
    }

    /// Cancels a running instance with its open reminders and pending steps.
    public func cancel(instance id: Int64, reason: String, actor: String) throws(EngineError) -> (reminders: Int, steps: Int) {
        let counts: (reminders: Int, steps: Int) = try storeCommand {
            guard let instance = try InstanceState.load(id, db: db, registry: registry) else {
                throw EngineError(code: "unknown_instance", "no instance \(id)")
            }
            guard instance.isRunning else {
                throw EngineError(code: "not_running", "instance \(id) is already \(instance.state)")
            }
            let now = Millis.from(clock.now)
            try db.execute("UPDATE reminder SET state = 'cancelled', next_repeat_at = NULL, next_escalation_at = NULL WHERE instance = ? AND state = 'open'", [.integer(id)])
            let reminders = db.changes
            try db.execute("UPDATE step SET state = 'cancelled', done_at = ? WHERE instance = ? AND state IN ('pending', 'due', 'running', 'waiting')",
                           [.integer(now), .integer(id)])
            let steps = db.changes
            try db.execute("UPDATE instance SET state = 'cancelled', ended_at = ?, cancel_reason = ? WHERE id = ?",
                           [.integer(now), .text(reason), .integer(id)])
            try ledger.append(at: clock.now, actor: actor, instance: id, step: nil, event: "instance.cancelled",
                              text: "撤销流程：\(reason)", fields: ["reminders": "\(reminders)", "steps": "\(steps)"])
            schedule(id, at: nil)
            return (reminders, steps)
        }
        rearm()
        return counts
    }

    /// Acknowledges a reminder: closes it, cancels its repeats and escalations, completes its
    /// step, and runs what that makes due — all in one transaction.
    /// - Parameters:
    ///   - user: whose acknowledgement this is; must be a recipient (at any level).
    ///   - actor: who asked (differs from `user` when an admin acts for someone).
    public func acknowledge(reminder id: Int64, user: String, actor: String, note: String?, fields: [String: String]) throws(EngineError) -> ReminderView {
        let view: ReminderView = try storeCommand {
            guard let row = try db.queryOne("SELECT instance, step, state, acked_by, acked_at FROM reminder WHERE id = ?", [.integer(id)]) else {
                throw EngineError(code: "unknown_reminder", "no reminder \(id)")
            }
            let instanceID = try row.int("instance"), step = try row.text("step")
            if !fields.isEmpty, let instance = try InstanceState.load(instanceID, db: db, registry: registry) {
                let declared = instance.definition.step(step)?.ack?.fields ?? []
                let unknown = fields.keys.filter { !declared.contains($0) }.sorted()
                if !unknown.isEmpty {
                    throw EngineError(code: "unknown_field", "step '\(step)' takes \(declared.isEmpty ? "no fields" : "the fields \(declared.joined(separator: ", "))") with its acknowledgement; not \(unknown.joined(separator: ", "))")
                }
            }
            switch try row.text("state") {
            case "acked":
                let when = try row.optionalInt("acked_at").map { InstanceContext.local(Millis.date($0), support.timeZone) } ?? "?"
                throw EngineError(code: "already_acknowledged", "reminder \(id) was already acknowledged by \(try row.optionalText("acked_by") ?? "?") at \(when)")
            case "cancelled":
                throw EngineError(code: "cancelled", "reminder \(id) was cancelled with its instance")
            default: break
            }
            let recipients = try db.query("SELECT user FROM reminder_recipient WHERE reminder = ? ORDER BY level, user", [.integer(id)]).map { try $0.text("user") }
            guard recipients.contains(user) else {
                throw EngineError(code: "not_recipient", "reminder \(id) is addressed to \(recipients.joined(separator: ", ")), not to \(user)")
            }
            let now = clock.now
            try db.execute("""
                UPDATE reminder SET state = 'acked', acked_by = ?, acked_at = ?, note = ?, fields = ?,
                    next_repeat_at = NULL, next_escalation_at = NULL
                WHERE id = ? AND state = 'open'
                """, [.text(user), .integer(Millis.from(now)), note.map { .text($0) } ?? .null,
                      .text(Ledger.json(fields)), .integer(id)])
            try db.execute("UPDATE step SET state = 'done', done_at = ? WHERE instance = ? AND step = ? AND state = 'waiting'",
                           [.integer(Millis.from(now)), .integer(instanceID), .text(step)])
            var ledgerFields = fields
            ledgerFields["reminder"] = "\(id)"
            if let note { ledgerFields["note"] = note }
            if actor != user { ledgerFields["acting_for"] = user }
            try ledger.append(at: now, actor: actor == user ? user : "\(actor) as \(user)", instance: instanceID, step: step,
                              event: "reminder.acknowledged", text: "已确认" + (note.map { "：\($0)" } ?? ""), fields: ledgerFields)
            let result = try advance(instanceID, now: now)
            schedule(instanceID, at: result.next)
            return try reminderViews(where: "r.id = ?", [.integer(id)]).first!
        }
        rearm()
        return view
    }

    /// Runs a command's body in a transaction, turning store failures into `EngineError` and
    /// restoring the in-memory schedule when it rolls back.
    func storeCommand<T>(_ body: () throws -> T) throws(EngineError) -> T {
        do {
            let result = try db.transaction(body)
            ledgerCommitted()  // anchor call site (LedgerVerification.swift)
            return result
        } catch let error as EngineError {
            try? ledger.reloadHead()
            try? rebuildSchedule()
            throw error
        } catch {
            try? ledger.reloadHead()
            try? rebuildSchedule()
            logger.error("command rolled back", metadata: ["error": "\(error)"])
            throw EngineError(code: "store_error", "the change was rolled back: \(error)")
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
    public var id: Int64
    public var changed: [Change]
    public var rederived: [Rederived]
}

import ControlProtocol
import Foundation
import WorkflowEngine

/// The engine's control commands: decode arguments, call the engine, encode results in the
/// wire types of `ControlProtocol`.
///
/// - Important: Loop thread only.
struct EngineCommandHandlers {
    let engine: WorkflowEngine
    let timeZone: TimeZone

    static let commands = ["start", "instances", "show", "update", "cancel", "inbox", "ack", "audit", "clock"]
    /// The longest `ack --note` accepted, in characters.
    static let maxNoteCharacters = 2000


    /// Handles one engine command for an authorized request.
    /// - Parameter grant: whose request this is (`user`: the caller, or whom an admin acts as;
    ///   `actor`: the caller) and which instances it may see.
    func handle(_ request: ControlRequest, grant: Authorization.Grant) throws(ControlError) -> JSONValue {
        let arguments = Arguments(values: request.arguments, command: request.command)
        let user = grant.user, caller = grant.actor
        // The ledger names both when an admin acts for someone ("root as zhaomin").
        let actor = caller == user ? user : "\(caller) as \(user)"
        do {
            switch request.command {
            case "start":
                let id = try engine.start(workflow: try arguments.string("workflow"), params: try arguments.stringMap("params"), actor: actor)
                return try encode(StartResult(id: Int(id)))
            case "instances":
                return try encode(try engine.instances(try instanceFilter(arguments, grant)).map(summary))
            case "show":
                let view = try engine.instance(try arguments.int("id"))
                try requireVisible(view.summary.id, unit: view.summary.unit, grant)
                return try encode(detail(view))
            case "update":
                let report = try engine.update(instance: try arguments.int("id"), params: try arguments.stringMap("params"), actor: actor)
                return try encode(UpdateResult(
                    id: Int(report.id),
                    changed: report.changed.map { .init(param: $0.param, old: $0.old, new: $0.new) },
                    rederived: report.rederived.map { .init(step: $0.step, oldDue: $0.oldDue.map(time), newDue: $0.newDue.map(time)) }))
            case "cancel":
                let reason = try arguments.string("reason")
                guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw ControlError(code: "bad_arguments", message: "cancel needs a non-empty reason")
                }
                let id = try arguments.int("id")
                let counts = try engine.cancel(instance: id, reason: reason, actor: actor)
                return try encode(CancelResult(id: Int(id), cancelledReminders: counts.reminders, cancelledSteps: counts.steps))
            case "inbox":
                return try encode(try engine.inbox(user: user, all: arguments.bool("all")).map(reminder))
            case "ack":
                let note = arguments.optionalString("note")
                if let note, note.count > Self.maxNoteCharacters {
                    throw ControlError(code: "note_too_long", message: """
                        the note has \(note.count) characters; at most \(Self.maxNoteCharacters) are kept in the ledger. \
                        Shorten it (put long text in a document and name it in the note)
                        """)
                }
                let view = try engine.acknowledge(reminder: try arguments.int("id"), user: user, actor: caller,
                                                  note: note, fields: try arguments.optionalStringMap("fields") ?? [:])
                return try encode(reminder(view))
            case "audit":
                let instance = try arguments.optionalInt("instance")
                if grant.units != nil {
                    guard let instance else {
                        throw ControlError(.notVisible, "the whole ledger is for admins; give --instance ID of an instance you can see")
                    }
                    try requireVisible(instance, unit: try engine.instance(instance).summary.unit, grant)
                }
                let rows = try engine.audit(instance: instance).map { entry in
                    LedgerRow(seq: Int(entry.seq), at: time(entry.at), actor: entry.actor, instance: entry.instance.map(Int.init),
                              step: entry.step, event: entry.event, text: entry.text, fields: entry.fields, hash: entry.hash)
                }
                var verification: LedgerVerification?
                if arguments.bool("verify") {
                    let check = try engine.verifyLedger()
                    verification = LedgerVerification(ok: check.ok, rowsChecked: check.rowsChecked,
                                                      firstBadSeq: check.firstBadSeq.map(Int.init), reason: check.reason)
                }
                return try encode(AuditResult(rows: rows, verification: verification))
            case "clock":
                return try encode(try clock(arguments))
            default:
                throw ControlError.unknownCommand(request.command, known: Self.commands)
            }
        } catch let error as ControlError {
            throw error
        } catch let error as EngineError {
            throw ControlError(error.code, error.message)
        } catch {
            throw ControlError(code: "internal_error", message: "\(request.command) failed: \(error)")
        }
    }

    /// Whether a staff member may see an instance: one of their units or below, or a reminder
    /// of it was addressed or escalated to them (an indexed lookup). Admins see everything.
    private func visible(_ instance: Int64, unit: String?, _ grant: Authorization.Grant) throws -> Bool {
        guard let units = grant.units else { return true }
        if let unit, let chart = engine.support.orgChart, units.contains(where: { chart.isUnit(unit, within: $0) }) { return true }
        return try engine.hasReminder(of: instance, for: grant.user)
    }

    private func requireVisible(_ instance: Int64, unit: String?, _ grant: Authorization.Grant) throws {
        guard try visible(instance, unit: unit, grant) else {
            throw ControlError(.notVisible, "instance \(instance) belongs to a unit you do not oversee, and none of its reminders is yours")
        }
    }

    /// Every unit at or below one of `roots` in the org chart.
    private func units(atOrBelow roots: Set<String>) -> Set<String> {
        guard let chart = engine.support.orgChart else { return roots }
        return Set(chart.unitOrder.filter { unit in roots.contains { chart.isUnit(unit, within: $0) } })
    }

    /// The `instances` arguments (`workflow`, `state`, `unit`, `under`, `limit`, `before`) and
    /// what the caller may see, as one indexed query.
    private func instanceFilter(_ arguments: Arguments, _ grant: Authorization.Grant) throws -> WorkflowEngine.InstanceFilter {
        var filter = WorkflowEngine.InstanceFilter(workflow: arguments.optionalString("workflow"))
        if let state = arguments.optionalString("state") {
            guard let parsed = InstanceStatus(rawValue: state) else {
                throw ControlError(.badArguments, "instances: state '\(state)' is not one of \(InstanceStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter.state = parsed
        }
        if let units = grant.units {
            filter.units = self.units(atOrBelow: units)
            filter.orRemindersOf = grant.user
        }
        let chart = engine.support.orgChart
        for key in ["unit", "under"] {
            guard let unit = arguments.optionalString(key) else { continue }
            guard chart?.units[unit] != nil else {
                throw ControlError(.badArguments, "instances: --\(key) '\(unit)' is not a unit of the org chart")
            }
            let scope: Set<String> = key == "unit" ? [unit] : units(atOrBelow: [unit])
            filter.onlyUnits = filter.onlyUnits.map { $0.intersection(scope) } ?? scope
        }
        if let limit = try arguments.optionalInt("limit") {
            guard limit > 0 else { throw ControlError(.badArguments, "instances: limit must be at least 1") }
            filter.limit = Int(limit)
        }
        filter.before = try arguments.optionalInt("before")
        return filter
    }

    private func clock(_ arguments: Arguments) throws -> ClockResult {
        var ran = 0
        if let advance = arguments.optionalString("advance") {
            guard let seconds = ClockDuration.seconds(in: advance), seconds > 0 else {
                throw ControlError(code: "bad_arguments", message: "cannot read duration '\(advance)'; expected e.g. 3d, 12h, 90m, 1w, 1d12h")
            }
            ran = try engine.advanceSimulatedClock(to: engine.clock.now.addingTimeInterval(TimeInterval(seconds)))
        } else if let set = arguments.optionalString("set") {
            guard let target = DaemonTime.parse(set, zone: timeZone) else {
                throw ControlError(code: "bad_arguments", message: "cannot read instant '\(set)'; expected 2026-11-01T09:00 (local) or 2026-11-01T09:00+08:00")
            }
            ran = try engine.advanceSimulatedClock(to: target)
        }
        return ClockResult(mode: engine.clock.mode, now: time(engine.clock.now), stepsRun: ran)
    }

    // MARK: - Mapping to wire types

    private func time(_ date: Date) -> String { DaemonTime.iso8601(date, zone: timeZone) }

    private func encode<T: Encodable>(_ value: T) throws -> JSONValue { try ControlCoding.value(value) }

    private func summary(_ view: InstanceSummaryView) -> InstanceSummary {
        InstanceSummary(id: Int(view.id), workflow: view.workflow, version: view.version, state: view.state, unit: view.unit,
                        startedAt: time(view.startedAt), endedAt: view.endedAt.map(time), startedBy: view.startedBy,
                        nextDue: view.nextDue.map(time), openReminders: view.openReminders)
    }

    private func reminder(_ view: ReminderView) -> ReminderInfo {
        ReminderInfo(id: Int(view.id), instance: Int(view.instance), workflow: view.workflow, step: view.step, title: view.title,
                     assignees: view.assignees, due: time(view.due), deadline: view.deadline.map(time), level: view.level,
                     message: view.message, state: view.state, overdue: view.overdue, ackedBy: view.ackedBy,
                     ackedAt: view.ackedAt.map(time), note: view.note, fields: view.fields)
    }

    private func detail(_ view: InstanceView) -> InstanceDetail {
        InstanceDetail(
            id: Int(view.summary.id), workflow: view.summary.workflow, title: view.title, version: view.summary.version,
            state: view.summary.state, unit: view.summary.unit, params: view.params, startedAt: time(view.summary.startedAt),
            startedBy: view.summary.startedBy, endedAt: view.summary.endedAt.map(time), cancelReason: view.cancelReason,
            steps: view.steps.map { step in
                StepDetail(id: step.id, title: step.title, uses: step.uses, state: step.state, due: step.due.map(time),
                           dueFormula: step.dueFormula, deadline: step.deadline.map(time), doneAt: step.doneAt.map(time),
                           lateBySeconds: Int(step.lateBySeconds), ackedBy: step.ackedBy, ackedAt: step.ackedAt.map(time), note: step.note)
            },
            reminders: view.reminders.map(reminder))
    }
}

/// Typed access to a request's arguments, refusing a missing or mistyped one by name.
struct Arguments {
    let values: [String: JSONValue]
    let command: String

    private func bad(_ key: String, _ expected: String) -> ControlError {
        ControlError(code: "bad_arguments", message: "\(command): argument '\(key)' must be \(expected)")
    }

    func string(_ key: String) throws(ControlError) -> String {
        guard case let .string(value)? = values[key] else { throw bad(key, "text") }
        return value
    }

    func optionalString(_ key: String) -> String? {
        if case let .string(value)? = values[key] { return value }
        return nil
    }

    func int(_ key: String) throws(ControlError) -> Int64 {
        guard let value = try optionalInt(key) else { throw bad(key, "a whole number") }
        return value
    }

    func optionalInt(_ key: String) throws(ControlError) -> Int64? {
        switch values[key] {
        case nil, .null?: return nil
        case let .number(number)? where number == number.rounded() && abs(number) < 1e15: return Int64(number)
        case let .string(text)?: if let value = Int64(text) { return value }
        default: break
        }
        throw bad(key, "a whole number")
    }

    func bool(_ key: String) -> Bool {
        if case let .bool(value)? = values[key] { return value }
        return false
    }

    func stringMap(_ key: String) throws(ControlError) -> [String: String] {
        try optionalStringMap(key) ?? [:]
    }

    func optionalStringMap(_ key: String) throws(ControlError) -> [String: String]? {
        switch values[key] {
        case nil, .null?: return nil
        case let .object(object)?:
            var result: [String: String] = [:]
            for (name, value) in object {
                guard case let .string(text) = value else { throw bad(key, "an object of text values") }
                result[name] = text
            }
            return result
        default: throw bad(key, "an object of text values")
        }
    }
}

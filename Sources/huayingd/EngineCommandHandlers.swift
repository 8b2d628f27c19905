import ControlProtocol
import EventLoop
import Foundation
import WorkflowEngine

/// The engine's control commands: decode arguments, call the engine, encode results in the
/// wire types of `ControlProtocol`.
///
/// - Important: Loop thread only.
struct EngineCommandHandlers {
    let engine: WorkflowEngine
    let timeZone: TimeZone
    let loop: EventLoop

    /// Commands answered later, through `handleLater`: `start` after the commit its slice
    /// shares with other starts, `clock` after a sliced advance, `audit --verify` after the
    /// check on a pool thread.
    static let deferred: Set<String> = ["start", "clock", "audit"]

    static let commands = ["start", "instances", "show", "update", "cancel", "inbox", "ack", "audit", "clock", "agenda", "whoami", "retry"]
        + absenceCommands
    /// The longest `ack --note` (and `ack --set` value) accepted, in characters.
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
            case "instances":
                return try encode(try engine.instances(try instanceFilter(arguments, grant)).map(summary))
            case "show":
                let view = try engine.instance(try arguments.int("id"))
                try requireVisible(view.summary.id, unit: view.summary.unit, grant)
                return try encode(detail(view, provisional: view.provisionalSteps))
            case "update":
                let report = try engine.update(instance: try arguments.int("id"), params: try arguments.stringMap("params"), actor: actor)
                return try encode(UpdateResult(
                    id: Int(report.id),
                    changed: report.changed.map { .init(param: $0.param, old: $0.old, new: $0.new) },
                    rederived: report.rederived.map { .init(step: $0.step, oldDue: $0.oldDue.map(time), newDue: $0.newDue.map(time)) },
                    reminders: report.reminders.map {
                        .init(reminder: Int($0.reminder), step: $0.step, oldMessage: $0.oldMessage, newMessage: $0.newMessage,
                              oldAckBy: $0.oldAckBy.map(time), newAckBy: $0.newAckBy.map(time))
                    },
                    provisionalYears: report.provisionalYears))
            case "cancel":
                let reason = try arguments.string("reason")
                guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw ControlError(.badArguments, "cancel needs a non-empty reason")
                }
                let id = try arguments.int("id")
                let counts = try engine.cancel(instance: id, reason: reason, actor: actor)
                return try encode(CancelResult(id: Int(id), cancelledReminders: counts.reminders, cancelledSteps: counts.steps))
            case "inbox":
                return try encode(try engine.inbox(user: user, all: arguments.bool("all")).map(reminder))
            case "agenda":
                return try encode(try agenda(arguments, grant))
            case "whoami":
                return try encode(whoami(grant))
            case "retry":  // OutboxCommands.swift
                return try encode(detail(try engine.retryStep(instance: try arguments.int("id"), step: try arguments.string("step"), actor: caller)))
            case "ack":
                let note = arguments.optionalString("note")
                if let note, note.count > Self.maxNoteCharacters {
                    throw ControlError(.noteTooLong, """
                        the note has \(note.count) characters; at most \(Self.maxNoteCharacters) are kept in the ledger. \
                        Shorten it (put long text in a document and name it in the note)
                        """)
                }
                let fields = try arguments.optionalStringMap("fields") ?? [:]
                if let (name, value) = fields.sorted(by: { $0.key < $1.key }).first(where: { $0.value.count > Self.maxNoteCharacters }) {
                    throw ControlError(.badField, "the value of '\(name)' has \(value.count) characters; at most \(Self.maxNoteCharacters) are kept in the ledger")
                }
                let view = try engine.acknowledge(reminder: try arguments.int("id"), user: user, actor: caller,
                                                  note: note, fields: fields)
                return try encode(reminder(view))
            case _ where Self.absenceCommands.contains(request.command):
                return try handleAbsenceCommand(request.command, arguments, grant: grant, actor: actor)
            default:
                throw ControlError.unknownCommand(request.command, known: Self.commands)
            }
        } catch let error as ControlError {
            throw error
        } catch let error as EngineError {
            throw ControlError(error.code, error.message)
        } catch {
            throw ControlError(.internalError, "\(request.command) failed: \(error)")
        }
    }

    /// Whether a staff member may see an instance: one of their units or below, or a reminder
    /// of it was addressed or escalated to them (an indexed lookup). Admins see everything.
    func visible(_ instance: Int64, unit: String?, _ grant: Authorization.Grant) throws -> Bool {
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
    func units(atOrBelow roots: Set<String>) -> Set<String> {
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
        // One answer is one page (the loop is never held by a long listing); the CLI pages on.
        let limit = try arguments.optionalInt("limit") ?? Int64(Self.instancesPageLimit)
        guard limit > 0 else { throw ControlError(.badArguments, "instances: limit must be at least 1") }
        filter.limit = Int(min(limit, Int64(Self.instancesPageLimit)))
        filter.before = try arguments.optionalInt("before")
        return filter
    }

    /// Handles a command of `deferred`, answering through `reply` (now for a refusal, later
    /// for the result).
    func handleLater(_ request: ControlRequest, grant: Authorization.Grant, reply: @escaping (Result<JSONValue, ControlError>) -> Void) {
        let arguments = Arguments(values: request.arguments, command: request.command)
        let actor = grant.actor == grant.user ? grant.user : "\(grant.actor) as \(grant.user)"
        func answer<T: Encodable>(_ result: Result<T, EngineError>) {
            switch result {
            case let .success(value):
                do { reply(.success(try ControlCoding.value(value))) } catch {
                    reply(.failure(ControlError(.internalError, "\(request.command) failed: \(error)")))
                }
            case let .failure(error):
                reply(.failure(ControlError(error.code, error.message)))
            }
        }
        do {
            switch request.command {
            case "start":
                let workflow = try arguments.string("workflow"), params = try arguments.stringMap("params")
                if arguments.bool("refuse_duplicate"), let existing = try duplicate(of: workflow, params: params) {
                    throw ControlError(.duplicateInstance, """
                        instance \(existing) of \(workflow) is running for \(params["unit"].map { "unit \($0)" } ?? "no unit") \
                        with the same params and values; see `huaying show \(existing)`, or add --allow-duplicate
                        """)
                }
                engine.enqueueStart(workflow: workflow, params: params, actor: actor) { result in
                    answer(result.map { report in
                        StartResult(id: Int(report.id), pastDueSteps: report.pastDueSteps, provisionalYears: report.provisionalYears)
                    })
                }
            case "clock":
                try clock(arguments) { result in answer(result) }
            case "audit":
                try audit(arguments, grant: grant, reply: reply)
            default:
                throw ControlError.unknownCommand(request.command, known: Self.commands)
            }
        } catch let error as ControlError {
            reply(.failure(error))
        } catch let error as EngineError {
            reply(.failure(ControlError(error.code, error.message)))
        } catch {
            reply(.failure(ControlError(.internalError, "\(request.command) failed: \(error)")))
        }
    }

    /// The most instances one `instances` answer carries; the CLI pages with `before`.
    static let instancesPageLimit = 1000

    /// The most ledger rows one `audit` answer carries; the CLI pages with `after_seq`.
    static let auditPageLimit = 5000

    /// `audit`: a page of rows (`after_seq`, `limit`), and with `verify` the chain check,
    /// which runs on a pool thread so the loop keeps serving (rows only with `rows: true`).
    private func audit(_ arguments: Arguments, grant: Authorization.Grant, reply: @escaping (Result<JSONValue, ControlError>) -> Void) throws {
        let instance = try arguments.optionalInt("instance")
        if grant.units != nil {
            guard let instance else {
                throw ControlError(.notVisible, "the whole ledger is for admins; give --instance ID of an instance you can see")
            }
            try requireVisible(instance, unit: try engine.unit(ofInstance: instance), grant)
        }
        let verify = arguments.bool("verify")
        let limit = min(Int(try arguments.optionalInt("limit") ?? Int64(Self.auditPageLimit)), Self.auditPageLimit)
        var rows: [LedgerRow] = []
        if !verify || arguments.bool("rows") {
            rows = try engine.audit(instance: instance, after: try arguments.optionalInt("after_seq") ?? 0, limit: max(1, limit)).map { entry in
                LedgerRow(seq: Int(entry.seq), at: time(entry.at), actor: entry.actor, instance: entry.instance.map(Int.init),
                          step: entry.step, event: entry.event, text: entry.text, fields: entry.fields, hash: entry.hash)
            }
        }
        guard verify else {
            reply(.success(try ControlCoding.value(AuditResult(rows: rows))))
            return
        }
        engine.verifyLedger(on: loop) { result in
            switch result {
            case let .success(check):
                let verification = LedgerVerification(ok: check.ok, rowsChecked: check.rowsChecked,
                                                      firstBadSeq: check.firstBadSeq.map(Int.init), reason: check.reason)
                do { reply(.success(try ControlCoding.value(AuditResult(rows: rows, verification: verification)))) } catch {
                    reply(.failure(ControlError(.internalError, "audit failed: \(error)")))
                }
            case let .failure(error):
                reply(.failure(ControlError(error.code, error.message)))
            }
        }
    }

    /// `clock`: without arguments the current instant; `advance` or `set` (not both) move a
    /// simulated clock in slices and answer when the move is done.
    private func clock(_ arguments: Arguments, completion: @escaping (Result<ClockResult, EngineError>) -> Void) throws {
        let advance = arguments.optionalString("advance"), set = arguments.optionalString("set")
        let target: Date
        switch (advance, set) {
        case (nil, nil):
            completion(.success(ClockResult(mode: engine.clock.mode, now: time(engine.clock.now))))
            return
        case (_?, _?):
            throw ControlError(.badArguments, "clock: give either advance or set, not both")
        case let (advance?, nil):
            guard let seconds = ClockDuration.seconds(in: advance), seconds > 0 else {
                throw ControlError(.badArguments, "cannot read duration '\(advance)'; expected e.g. 3d, 12h, 90m, 1w, 1d12h")
            }
            target = engine.clock.now.addingTimeInterval(TimeInterval(seconds))
        case let (nil, set?):
            guard let parsed = DaemonTime.parse(set, zone: timeZone) else {
                throw ControlError(.badArguments, "cannot read instant '\(set)'; expected 2026-11-01T09:00 (local) or 2026-11-01T09:00+08:00")
            }
            target = parsed
        }
        try engine.advanceSimulatedClock(to: target, confirmed: arguments.bool("yes")) { [engine, timeZone] result in
            completion(result.map { ClockResult(mode: engine.clock.mode, now: DaemonTime.iso8601(engine.clock.now, zone: timeZone), stepsRun: $0) })
        }
    }

    // MARK: - Mapping to wire types

    func time(_ date: Date) -> String { DaemonTime.iso8601(date, zone: timeZone) }

    func encode<T: Encodable>(_ value: T) throws -> JSONValue { try ControlCoding.value(value) }

    private func summary(_ view: InstanceSummaryView) -> InstanceSummary {
        InstanceSummary(id: Int(view.id), workflow: view.workflow, version: view.version, state: view.state, unit: view.unit,
                        startedAt: time(view.startedAt), endedAt: view.endedAt.map(time), startedBy: view.startedBy,
                        nextDue: view.nextDue.map(time), openReminders: view.openReminders)
    }

    func reminder(_ view: ReminderView) -> ReminderInfo {
        var info = ReminderInfo(id: Int(view.id), instance: Int(view.instance), workflow: view.workflow, step: view.step, title: view.title,
                     assignees: view.assignees, due: time(view.due), deadline: view.deadline.map(time), level: view.level,
                     message: view.message, state: view.state, overdue: view.overdue, ackedBy: view.ackedBy,
                     ackedAt: view.ackedAt.map(time), note: view.note, fields: view.fields,
                     onBehalfOf: view.onBehalfOf, nudgedAt: view.nudgedAt.map(time), nudgedBy: view.nudgedBy)
        info.provisionalYears = engine.provisionalYears([view.due, view.deadline], workflow: view.workflow)
        info.provisional = !info.provisionalYears.isEmpty
        return info
    }

    private func detail(_ view: InstanceView, provisional: [String: [Int]] = [:]) -> InstanceDetail {
        InstanceDetail(
            id: Int(view.summary.id), workflow: view.summary.workflow, title: view.title, version: view.summary.version,
            state: view.summary.state, unit: view.summary.unit, params: view.params, startedAt: time(view.summary.startedAt),
            startedBy: view.summary.startedBy, endedAt: view.summary.endedAt.map(time), cancelReason: view.cancelReason,
            steps: view.steps.map { step in
                var detail = StepDetail(id: step.id, title: step.title, uses: step.uses, state: step.state, due: step.due.map(time),
                           dueFormula: step.dueFormula, deadline: step.deadline.map(time), doneAt: step.doneAt.map(time),
                           lateBySeconds: Int(step.lateBySeconds), ackedBy: step.ackedBy, ackedAt: step.ackedAt.map(time), note: step.note,
                           failure: step.failure)
                detail.provisionalYears = provisional[step.id]
                    ?? engine.provisionalYears([step.due, step.deadline], workflow: view.summary.workflow)
                detail.provisional = !detail.provisionalYears.isEmpty
                return detail
            },
            reminders: view.reminders.map(reminder))
    }
}

/// Typed access to a request's arguments, refusing a missing or mistyped one by name.
struct Arguments {
    let values: [String: JSONValue]
    let command: String

    private func bad(_ key: String, _ expected: String) -> ControlError {
        ControlError(.badArguments, "\(command): argument '\(key)' must be \(expected)")
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

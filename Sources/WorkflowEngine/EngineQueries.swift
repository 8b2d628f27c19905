import Crypto
import EventLoop
import ControlProtocol
import Foundation
import SQLiteStore

/// A reminder as inboxes and `show` present it.
public struct ReminderView: Sendable, Equatable {
    public var id: Int64
    public var instance: Int64
    public var workflow: String
    public var step: String
    public var title: String
    /// Everyone who may acknowledge it, first recipients first, then each escalation level.
    public var assignees: [String]
    public var due: Date
    public var deadline: Date?
    public var level: Int
    public var message: String
    public var state: String
    public var overdue: Bool
    public var ackedBy: String?
    public var ackedAt: Date?
    public var note: String?
    public var fields: [String: String]
    /// The absent recipients the reader stands in for (empty when it is the reader's own).
    public var onBehalfOf: [String] = []
    /// The latest 催办: when and by whom.
    public var nudgedAt: Date?
    public var nudgedBy: String?
}

public struct InstanceSummaryView: Sendable, Equatable {
    public var id: Int64
    public var workflow: String
    public var version: String
    public var state: String
    public var unit: String?
    public var startedAt: Date
    public var startedBy: String
    public var endedAt: Date?
    public var nextDue: Date?
    public var openReminders: Int
}

public struct StepView: Sendable, Equatable {
    public var id: String
    public var title: String
    public var uses: String
    public var state: String
    public var due: Date?
    public var dueFormula: String?
    public var deadline: Date?
    public var doneAt: Date?
    public var lateBySeconds: Int64
    public var ackedBy: String?
    public var ackedAt: Date?
    public var note: String?
    /// Why the step failed, when it did.
    public var failure: String?
}

/// What is still to do in one instance (``WorkflowEngine/openWork(of:)``).
public struct OpenWork: Sendable, Equatable {
    public var title: String
    /// Its steps not yet final that have a due time, in the workflow's order.
    public var steps: [StepView] = []
    /// Its open reminders.
    public var reminders: [ReminderView] = []
}

public struct InstanceView: Sendable, Equatable {
    public var summary: InstanceSummaryView
    public var title: String
    public var params: [String: String]
    public var cancelReason: String?
    public var steps: [StepView]
    public var reminders: [ReminderView]
    /// Per step not yet final, the years of its dates that the calendar lacks (provisional).
    public var provisionalSteps: [String: [Int]] = [:]
}

extension WorkflowEngine {
    /// Which instances a listing asks for. `units` limits to instances of those units (the
    /// caller resolves `--unit`/`--under` and a staff member's units through the org chart);
    /// `orRemindersOf` also lets through instances with a reminder addressed or escalated to
    /// that user (a staff member sees those too).
    public struct InstanceFilter: Sendable, Equatable {
        public var workflow: String?
        public var state: InstanceStatus?
        public var units: Set<String>?
        public var orRemindersOf: String?
        /// And only instances of these units (`--unit`, `--under`).
        public var onlyUnits: Set<String>?
        /// At most this many, newest first, with ids below `before` (paging).
        public var limit: Int?
        public var before: Int64?
        public init(workflow: String? = nil, state: InstanceStatus? = nil, units: Set<String>? = nil, orRemindersOf: String? = nil,
                    onlyUnits: Set<String>? = nil, limit: Int? = nil, before: Int64? = nil) {
            self.workflow = workflow
            self.onlyUnits = onlyUnits
            self.state = state
            self.units = units
            self.orRemindersOf = orRemindersOf
            self.limit = limit
            self.before = before
        }
    }

    /// Instances, newest first, filtered with indexed lookups (O(result), not O(all)).
    public func instances(_ filter: InstanceFilter = .init()) throws -> [InstanceSummaryView] {
        var conditions: [String] = []
        var arguments: [SQLiteValue] = []
        if let workflow = filter.workflow { conditions.append("workflow = ?"); arguments.append(.text(workflow)) }
        if let state = filter.state { conditions.append("state = ?"); arguments.append(.text(state.rawValue)) }
        if let before = filter.before { conditions.append("id < ?"); arguments.append(.integer(before)) }
        var scope: [String] = []
        if let units = filter.units {
            scope.append("unit IN (\(Array(repeating: "?", count: units.count).joined(separator: ",")))")
            arguments += units.sorted().map { .text($0) }
        }
        if let user = filter.orRemindersOf {
            scope.append("id IN (SELECT r.instance FROM reminder_recipient rr JOIN reminder r ON r.id = rr.reminder WHERE rr.user = ?)")
            arguments.append(.text(user))
        }
        if !scope.isEmpty { conditions.append("(" + scope.joined(separator: " OR ") + ")") }
        if let only = filter.onlyUnits {
            conditions.append("unit IN (\(Array(repeating: "?", count: only.count).joined(separator: ",")))")
            arguments += only.sorted().map { .text($0) }
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let limit = filter.limit.map { " LIMIT \(max(0, $0))" } ?? ""
        return try db.query("""
            SELECT id, workflow, version, state, unit, started_at, started_by, ended_at,
                (SELECT count(*) FROM reminder WHERE instance = instance.id AND state = '\(ReminderState.open.rawValue)') AS open_reminders
            FROM instance \(whereClause) ORDER BY id DESC\(limit)
            """, arguments).map(summary)
    }

    /// The newest running instance of `workflow` for `unit` started with exactly `params` (as
    /// given, defaults not filled in), or nil: what `start` refuses as a duplicate. One indexed
    /// query over the stored params, no instance loaded.
    public func runningInstance(of workflow: String, unit: String?, params: [String: String]) throws -> Int64? {
        for row in try db.query("""
            SELECT id, params FROM instance WHERE workflow = ? AND state = '\(InstanceStatus.running.rawValue)' AND unit IS ? ORDER BY id DESC
            """, [.text(workflow), unit.map { .text($0) } ?? .null]) where FlatJSON.decode(try row.text("params")) == params {
            return try row.int("id")
        }
        return nil
    }

    /// The unit an instance belongs to (nil for one without a unit), for visibility checks that
    /// need nothing else of it: one indexed row, where ``instance(_:)`` loads and binds it whole.
    public func unit(ofInstance id: Int64) throws(EngineError) -> String? {
        do {
            guard let row = try db.queryOne("SELECT unit FROM instance WHERE id = ?", [.integer(id)]) else {
                throw EngineError(.unknownInstance, "no instance \(id)")
            }
            return try row.optionalText("unit")
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(.storeError, "\(error)")
        }
    }

    /// Whether a reminder of the instance was ever addressed or escalated to `user` (indexed).
    /// So does standing in for someone today (their open reminders).
    public func hasReminder(of instance: Int64, for user: String) throws -> Bool {
        if try db.queryOne("""
            SELECT 1 AS one FROM reminder_recipient rr JOIN reminder r ON r.id = rr.reminder WHERE rr.user = ? AND r.instance = ? LIMIT 1
            """, [.text(user), .integer(instance)]) != nil {
            return true
        }
        for absent in try standingInFor(user) where try db.queryOne("""
            SELECT 1 AS one FROM reminder_recipient rr JOIN reminder r ON r.id = rr.reminder
            WHERE rr.user = ? AND r.instance = ? AND r.state = '\(ReminderState.open.rawValue)' LIMIT 1
            """, [.text(absent), .integer(instance)]) != nil {
            return true
        }
        return false
    }

    private func summary(_ row: Row) throws -> InstanceSummaryView {
        let id = try row.int("id")
        let state = try row.text("state")
        let next = state == InstanceStatus.running.rawValue ? scheduledDue(id) : nil
        return InstanceSummaryView(
            id: id, workflow: try row.text("workflow"), version: try row.text("version"), state: state,
            unit: try row.optionalText("unit"), startedAt: Millis.date(try row.int("started_at")),
            startedBy: try row.text("started_by"), endedAt: try row.optionalInt("ended_at").map(Millis.date),
            nextDue: next, openReminders: Int(try row.int("open_reminders")))
    }

    /// One instance with its timeline.
    public func instance(_ id: Int64) throws(EngineError) -> InstanceView {
        do {
            guard let row = try db.queryOne("""
                SELECT id, workflow, version, state, unit, started_at, started_by, ended_at, cancel_reason, params,
                    (SELECT count(*) FROM reminder WHERE instance = instance.id AND state = '\(ReminderState.open.rawValue)') AS open_reminders
                FROM instance WHERE id = ?
                """, [.integer(id)]), let state = try store.loadInstance(id, definition: registry.definition(version:)) else {
                throw EngineError(.unknownInstance, "no instance \(id)")
            }
            let reminders = try reminderViews(where: "r.instance = ?", [.integer(id)])
            let steps = state.definition.steps.map { definition -> StepView in
                let row = state.steps[definition.id.value]
                let acked = state.ackedReminder(of: definition.id.value)
                return StepView(
                    id: definition.id.value, title: definition.title, uses: definition.uses.value, state: (row?.state ?? .pending).rawValue,
                    due: row?.dueAt.map(Millis.date), dueFormula: row?.dueFormula, deadline: row?.deadlineAt.map(Millis.date),
                    doneAt: row?.doneAt.map(Millis.date), lateBySeconds: (row?.lateMillis ?? 0) / 1000,
                    ackedBy: acked?.ackedBy, ackedAt: acked?.ackedAt.map(Millis.date), note: acked?.note, failure: row?.failure)
            }
            // Every parameter the dates depend on, including defaults (a triggered instance is
            // given only its unit).
            var params = state.params
            let bound = try? support.planner(for: state.definition).bind(state.params, for: state.definition, start: state.startedAt)
            for param in bound?.params ?? [] where params[param.name] == nil && !param.value.isEmpty { params[param.name] = param.value }
            let context = state.isRunning ? bound.map { InstanceContext(support: support, instance: state, bound: $0.environment) } : nil
            return InstanceView(summary: try summary(row), title: state.definition.title, params: params,
                                cancelReason: try row.optionalText("cancel_reason"), steps: steps, reminders: reminders,
                                provisionalSteps: try provisionalYears(of: state, context: context).steps)
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(.storeError, "\(error)")
        }
    }

    /// The open work of many instances at once (`agenda`): each one's title, its steps not yet
    /// final that have a due time (in the workflow's order) and its open reminders. Two queries
    /// for the lot, where ``instance(_:)`` loads one instance whole.
    public func openWork(of ids: [Int64]) throws(EngineError) -> [Int64: OpenWork] {
        guard !ids.isEmpty else { return [:] }
        do {
            let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
            let arguments = ids.map { SQLiteValue.integer($0) }
            let final = StepState.allCases.filter(\.isFinal).map { "'\($0.rawValue)'" }.joined(separator: ",")
            var work: [Int64: OpenWork] = [:]
            for row in try db.query("""
                SELECT s.instance, s.step, s.state, s.due_at, s.due_formula, s.deadline_at, i.version FROM step s JOIN instance i ON i.id = s.instance
                WHERE s.instance IN (\(marks)) AND s.state NOT IN (\(final)) AND s.due_at IS NOT NULL ORDER BY s.instance, s.position
                """, arguments) {
                let instance = try row.int("instance"), stepID = try row.text("step")
                let definition = try registry.definition(version: try row.text("version"))
                let step = definition.step(stepID)
                work[instance, default: OpenWork(title: definition.title)].steps.append(StepView(
                    id: stepID, title: step?.title ?? stepID, uses: step?.uses.value ?? "", state: try row.text("state"),
                    due: try row.optionalInt("due_at").map(Millis.date), dueFormula: try row.optionalText("due_formula"),
                    deadline: try row.optionalInt("deadline_at").map(Millis.date), doneAt: nil, lateBySeconds: 0,
                    ackedBy: nil, ackedAt: nil, note: nil, failure: nil))
            }
            for reminder in try reminderViews(where: "r.instance IN (\(marks)) AND r.state = '\(ReminderState.open.rawValue)'", arguments) {
                work[reminder.instance]?.reminders.append(reminder)
            }
            return work
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(.storeError, "\(error)")
        }
    }

    /// A user's reminders: open ones, or all with `all`. With `user` nil, everyone's.
    public func inbox(user: String?, all: Bool) throws -> [ReminderView] {
        var conditions: [String] = []
        var arguments: [SQLiteValue] = []
        var covered: [String] = []
        if let user {
            // Also the open reminders of the people the user stands in for today.
            covered = try standingInFor(user)
            var mine = "r.id IN (SELECT reminder FROM reminder_recipient WHERE user = ?)"
            arguments.append(.text(user))
            if !covered.isEmpty {
                mine = "(\(mine) OR (r.state = '\(ReminderState.open.rawValue)' AND r.id IN (SELECT reminder FROM reminder_recipient WHERE user IN (\(Array(repeating: "?", count: covered.count).joined(separator: ","))))))"
                arguments += covered.map { .text($0) }
            }
            conditions.append(mine)
        }
        if !all { conditions.append("r.state = '\(ReminderState.open.rawValue)'") }
        var views = try reminderViews(where: conditions.isEmpty ? "1" : conditions.joined(separator: " AND "), arguments)
        if let user, !covered.isEmpty {
            for index in views.indices where !views[index].assignees.contains(user) {
                views[index].onBehalfOf = covered.filter { views[index].assignees.contains($0) }
            }
        }
        return views
    }

    func reminderViews(where condition: String, _ arguments: [SQLiteValue]) throws -> [ReminderView] {
        let now = Millis.from(clock.now)
        var recipients: [Int64: [String]] = [:]
        for row in try db.query("""
            SELECT rr.reminder, rr.user FROM reminder_recipient rr JOIN reminder r ON r.id = rr.reminder
            WHERE \(condition) ORDER BY rr.reminder, rr.level, rr.user
            """, arguments) {
            recipients[try row.int("reminder"), default: []].append(try row.text("user"))
        }
        var views = try db.query("""
            SELECT r.id, r.instance, i.workflow, i.version, r.step, r.message, r.due_at, r.deadline_at, r.level, r.state,
                   r.acked_by, r.acked_at, r.note, r.fields
            FROM reminder r JOIN instance i ON i.id = r.instance
            WHERE \(condition) ORDER BY r.due_at, r.id
            """, arguments).map { row in
            let id = try row.int("id"), state = try row.text("state")
            let deadline = try row.optionalInt("deadline_at")
            let step = try row.text("step")
            let title = (try? registry.definition(version: try row.text("version")))?.step(step)?.title ?? step
            return ReminderView(
                id: id, instance: try row.int("instance"), workflow: try row.text("workflow"), step: step, title: title,
                assignees: recipients[id] ?? [], due: Millis.date(try row.int("due_at")), deadline: deadline.map(Millis.date),
                level: Int(try row.int("level")), message: try row.text("message"), state: state,
                overdue: state == ReminderState.open.rawValue && (deadline.map { $0 < now } ?? false),
                ackedBy: try row.optionalText("acked_by"), ackedAt: try row.optionalInt("acked_at").map(Millis.date),
                note: try row.optionalText("note"), fields: Ledger.fields(try row.optionalText("fields") ?? "{}"))
        }
        let nudges = try latestNudges(of: views.filter { $0.state == ReminderState.open.rawValue }.map(\.id))
        for index in views.indices {
            guard let nudge = nudges[views[index].id] else { continue }
            views[index].nudgedAt = nudge.at
            views[index].nudgedBy = nudge.by
        }
        return views
    }

    /// Ledger rows, oldest first, optionally of one instance: at most `limit` with `seq` above `after`.
    public func audit(instance: Int64? = nil, after: Int64 = 0, limit: Int = Int.max) throws -> [LedgerEntry] {
        var arguments: [SQLiteValue] = [.integer(after)]
        var filter = "WHERE seq > ?"
        if let instance {
            filter += " AND instance = ?"
            arguments.append(.integer(instance))
        }
        let page = limit == Int.max ? "" : " LIMIT \(limit)"
        return try db.query("""
            SELECT seq, at, actor, instance, step, event, text, fields, prev_hash, hash FROM ledger \(filter) ORDER BY seq\(page)
            """, arguments).map { row in
            LedgerEntry(seq: try row.int("seq"), at: Millis.date(try row.int("at")), actor: try row.text("actor"),
                        instance: try row.optionalInt("instance"), step: try row.optionalText("step"),
                        event: try row.text("event"), text: try row.text("text"), fields: Ledger.fields(try row.text("fields")),
                        prevHash: try row.text("prev_hash"), hash: try row.text("hash"))
        }
    }

    /// Recomputes the whole hash chain.
    public func verifyLedger() throws -> LedgerCheck {
        try ledger.verify()
    }

    /// Counts for `status`, kept in memory (O(1)).
    public func counts() throws -> [String: Int] {
        [
            "workflows": registry.current.count,
            "instances": Int(nextInstanceID - 1),
            "running_instances": statistics.runningInstances,
            "open_reminders": statistics.openReminders,
            "ledger_rows": Int(ledger.head.seq),
            "steps_run": statistics.itemsRun,
            "caught_up_steps": statistics.caughtUp,
            "longest_late_seconds": Int(statistics.longestLateSeconds),
            "failed_batches": statistics.failedBatches,
            "longest_slice_ms": Int(statistics.longestSliceMilliseconds.rounded(.up)),
        ]
    }
}

extension WorkflowEngine {
    /// Recomputes the whole hash chain off the loop thread, on a read-only connection of its
    /// own, and calls `completion` on the loop thread: the loop keeps serving while a county's
    /// year of ledger rows is checked.
    public func verifyLedger(on loop: EventLoop, completion: @escaping (Result<LedgerCheck, EngineError>) -> Void) {
        // The key crosses to the pool thread as bytes (SymmetricKey is not Sendable).
        let path = db.path, head = ledger.head, keyBytes = ledger.key.map { $0.withUnsafeBytes { Data($0) } }
        let cancellation = VerificationCancellation()
        verifications.append(cancellation)
        do {
            try WorkRequest.queue(on: loop, { () -> Result<LedgerCheck, EngineError> in
                do {
                    let reader = try Database(path: path, options: DatabaseOptions(readOnly: true))
                    cancellation.watch(reader)
                    defer {
                        cancellation.unwatch()
                        try? reader.close()
                    }
                    let verifier = try Ledger(db: reader)
                    verifier.key = keyBytes.map { SymmetricKey(data: $0) }
                    verifier.committed = head
                    return .success(try verifier.verifyAll(cancellation: cancellation))
                } catch {
                    if cancellation.isCancelled {
                        return .failure(EngineError(.shuttingDown, "the daemon is stopping; the verification was called off"))
                    }
                    return .failure(EngineError(.storeError, "cannot verify the ledger: \(error)"))
                }
            }, completion: { [weak self] result in
                self?.verifications.removeAll { $0 === cancellation }
                completion(result)
            })
        } catch {
            verifications.removeAll { $0 === cancellation }
            completion(.failure(EngineError(.shuttingDown, "cannot verify the ledger now: \(error)")))
        }
    }

    /// Calls off every verification still running on a worker thread, so that the loop (which
    /// waits for them when it closes) and a daemon told to stop are not held for seconds.
    func cancelVerifications() {
        for cancellation in verifications { cancellation.cancel() }
    }
}

/// A verification was called off (the daemon is stopping).
struct VerificationCancelled: Error {}

/// How the loop thread calls off a verification running on a worker thread: a flag checked
/// between chunks of rows, and `sqlite3_interrupt` for a query already running.
///
/// `@unchecked Sendable`, soundly: every field is read and written under `lock`, and the reader
/// connection is interrupted only while the worker has it open (it unwatches before closing).
final class VerificationCancellation: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    private var reader: Database?

    var isCancelled: Bool { lock.withLock { cancelled } }

    func cancel() {
        lock.withLock {
            cancelled = true
            reader?.interrupt()
        }
    }

    func watch(_ database: Database) {
        lock.withLock {
            reader = database
            if cancelled { database.interrupt() }
        }
    }

    func unwatch() { lock.withLock { reader = nil } }
}

import ControlProtocol
import Foundation
import HeapModule
import WorkflowModel

/// One batch of engine work, as a value that becomes real only when it commits.
///
/// Every instance the batch touches is loaded once and changed here, in memory; ledger rows
/// are chained onto a copy of the head; new ids come from copies of the counters; schedule and
/// trigger changes are staged. `WorkflowEngine.perform` writes the result in one transaction
/// and only then lets it replace the engine's state (`adopt`). A batch that throws, or whose
/// COMMIT fails, is simply dropped: the engine's memory was never touched, so there is nothing
/// to repair (the one exception, heap entries the batch took out, is put back by `discard`).
///
/// - Important: Loop thread only; lives for one call of `perform`.
final class UnitOfWork {
    unowned let engine: WorkflowEngine
    /// The ledger head as this batch has extended it.
    var head: LedgerHead
    private(set) var ledger: [LedgerEntry] = []
    var nextInstanceID: Int64
    var nextReminderID: Int64
    /// Instances as loaded (absent for ones created here) and as they are now.
    private var loaded: [Int64: InstanceState] = [:]
    private var current: [Int64: InstanceState] = [:]
    private var created: [Int64] = []
    private var order: [Int64] = []
    /// Each touched instance's parameters, bound once (the expensive part of a context).
    private var bound: [Int64: TimeEnvironment] = [:]
    var triggerNext: [String: Int64] = [:]
    var triggerFires: [ChangeSet.TriggerFire] = []
    /// Heap entries this batch removed (given back if it is dropped).
    var takenFromHeap: [WorkflowEngine.DueEntry] = []
    var report = WorkflowEngine.BatchReport()
    /// External effects to write with this batch (Outbox.swift), and whether it changed rows.
    var outboxInserts: [OutboxInsert] = []
    var outboxTouched = false
    /// Next due instants of instances this batch changed, so a slice runs their later items in
    /// time order without waiting for the commit (stale entries skipped by sequence).
    private var localHeap = Heap<WorkflowEngine.DueEntry>()
    private var localSequence: [Int64: UInt64] = [:]
    private var nextLocalSequence: UInt64 = 0

    init(engine: WorkflowEngine) {
        self.engine = engine
        head = engine.ledger.head
        nextInstanceID = engine.nextInstanceID
        nextReminderID = engine.nextReminderID
    }

    // MARK: Instances

    /// The instance as this batch sees it: loaded from the store the first time.
    func instance(_ id: Int64) throws -> InstanceState? {
        if let instance = current[id] { return instance }
        guard let instance = try engine.store.loadInstance(id, definition: engine.registry.definition(version:)) else { return nil }
        loaded[id] = instance
        current[id] = instance
        order.append(id)
        return instance
    }

    /// Stores the changed instance (it is written when the batch commits).
    func put(_ instance: InstanceState) {
        if current[instance.id] == nil { order.append(instance.id) }
        current[instance.id] = instance
    }

    /// Registers an instance created in this batch.
    func create(_ instance: InstanceState) {
        created.append(instance.id)
        put(instance)
    }

    /// The instance's formula context, binding its parameters only the first time.
    func context(for instance: InstanceState) throws(EngineError) -> InstanceContext {
        if let environment = bound[instance.id] {
            return InstanceContext(support: engine.support, instance: instance, bound: environment)
        }
        let environment = try InstanceContext.bind(instance, support: engine.support)
        bound[instance.id] = environment
        return InstanceContext(support: engine.support, instance: instance, bound: environment)
    }

    /// Caches a binding already made (a start checks its params by binding them).
    func seed(_ id: Int64, bound environment: TimeEnvironment) {
        bound[id] = environment
    }

    /// Forgets a cached binding (the parameters changed).
    func rebind(_ id: Int64) {
        bound[id] = nil
    }

    func allocateInstanceID() -> Int64 {
        defer { nextInstanceID += 1 }
        return nextInstanceID
    }

    func allocateReminderID() -> Int64 {
        defer { nextReminderID += 1 }
        return nextReminderID
    }

    /// Notes an instance's next due instant for the rest of this batch.
    func reschedule(_ instance: InstanceState) {
        nextLocalSequence += 1
        guard let due = instance.nextDue else {
            localSequence[instance.id] = nil
            return
        }
        localSequence[instance.id] = nextLocalSequence
        localHeap.insert(.init(due: due, sequence: nextLocalSequence, instance: instance.id))
    }

    /// The earliest instant an instance changed by this batch falls due next.
    func peekRescheduled() -> WorkflowEngine.DueEntry? {
        while let top = localHeap.min, localSequence[top.instance] != top.sequence { localHeap.removeMin() }
        return localHeap.min
    }

    func takeRescheduled() {
        if let top = peekRescheduled() {
            localHeap.removeMin()
            localSequence[top.instance] = nil
        }
    }

    // MARK: Ledger

    /// Chains a ledger row onto this batch's head. Its `at` never goes below the previous
    /// row's, so the ledger's times never decrease.
    @discardableResult
    func record(at now: Date, actor: String = WorkflowEngine.daemonActor, instance: Int64?, step: String?, _ event: LedgerEvent,
                _ text: String, fields: [String: String] = [:]) -> Int64 {
        let entry = engine.ledger.entry(after: &head, at: now, actor: actor, instance: instance, step: step, event: event, text: text, fields: fields)
        ledger.append(entry)
        return entry.seq
    }

    // MARK: Result

    /// The touched instances in the order they were first touched, as they are now.
    var touched: [InstanceState] { order.compactMap { current[$0] } }

    /// What the store writes.
    func changes() -> ChangeSet {
        var set = ChangeSet(ledger: ledger, triggerNext: triggerNext, triggerFires: triggerFires)
        let createdSet = Set(created)
        for id in order {
            guard let now = current[id] else { continue }
            if createdSet.contains(id) {
                set.created.append(now)
            } else if let before = loaded[id] {
                set.changed.append((before, now))
            }
        }
        return set
    }

    /// Running-instance and open-reminder counts, as this batch changes them.
    func countChanges() -> (running: Int, openReminders: Int) {
        var running = 0, open = 0
        for id in order {
            guard let now = current[id] else { continue }
            let before = loaded[id]
            running += (now.isRunning ? 1 : 0) - ((before?.isRunning ?? false) ? 1 : 0)
            open += now.reminders.filter { $0.state == .open }.count - (before?.reminders.filter { $0.state == .open }.count ?? 0)
        }
        return (running, open)
    }
}

@available(*, unavailable)
extension UnitOfWork: Sendable {}

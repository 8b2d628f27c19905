import Foundation
import WorkflowModel

/// The engine's persistence, drawn as a seam: the state machine (`UnitOfWork`, the advance
/// and command code) computes changes in memory and hands them to a store, which writes them
/// atomically. SQLite (`SQLiteEngineStore`) is the embedded default; a PostgreSQL store with
/// several daemons claiming due work by lease would implement the same protocol
/// (docs/architecture.md, "The storage seam").
///
/// - Important: Loop thread only.
protocol EngineStore: AnyObject {
    /// Every running instance's next due instant (ms), for the in-memory schedule.
    func loadSchedule(_ body: (_ instance: Int64, _ due: Int64?) -> Void) throws
    /// One instance with its steps and reminders, or nil.
    func loadInstance(_ id: Int64, definition: (String) throws -> WorkflowDefinition) throws -> InstanceState?
    /// The instance a reminder belongs to.
    func instanceOfReminder(_ reminder: Int64) throws -> Int64?
    /// The next free instance and reminder ids.
    func nextIdentities() throws -> (instance: Int64, reminder: Int64)
    /// Running instances and open reminders (start-up; afterwards the engine counts itself).
    func liveCounts() throws -> (runningInstances: Int, openReminders: Int)
    /// Whether an occurrence of a trigger already started its instance for a unit.
    func triggerFired(workflow: String, occurrence: String, unit: String) throws -> Bool
    /// The stored next start of a triggered workflow.
    func triggerNext(workflow: String) throws -> Int64?
    /// Runs `body` (which reads through this store) and then writes its changes, all in one
    /// transaction: either everything is committed or nothing is.
    func transaction<T>(_ body: () throws -> (T, ChangeSet)) throws -> T
}

/// What one unit of work changed, as the store writes it.
struct ChangeSet {
    /// Instances created in this unit of work (all their steps and reminders are new).
    var created: [InstanceState] = []
    /// Instances that existed, as loaded and as they are now.
    var changed: [(before: InstanceState, after: InstanceState)] = []
    var ledger: [LedgerEntry] = []
    var triggerNext: [String: Int64] = [:]
    var triggerFires: [TriggerFire] = []

    struct TriggerFire {
        var workflow: String
        var occurrence: String
        var unit: String
        var instance: Int64?
    }
}

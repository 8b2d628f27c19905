import EventLoop
import Foundation
import HeapModule
import Logging
import SQLiteStore
import StepPluginAPI
import WorkflowModel

/// Runs workflow instances: keeps every instance's next due instant in a min-heap, wakes with
/// one libuv timer, and commits everything that fell due in one wake-up in one transaction.
///
/// A step's transition and all of its effects (reminder rows, ledger rows) are written in the
/// same transaction, so after a crash the engine resumes from the last commit: nothing that
/// fell due is lost and nothing runs twice.
///
/// - Important: Loop thread only. Not `Sendable`.
public final class WorkflowEngine {
    /// What one wake-up did.
    public struct BatchReport: Sendable, Equatable {
        public var itemsRun = 0
        /// Items that ran more than a second after they fell due (after downtime).
        public var lateItems = 0
        public var longestLateSeconds: Int64 = 0
    }

    /// Counters for `status`.
    public struct Statistics: Sendable, Equatable {
        public var itemsRun = 0
        public var caughtUp = 0
        public var longestLateSeconds: Int64 = 0
        public var failedBatches = 0
        public var lastError: String?
    }

    let db: Database
    public let clock: any EngineClock
    public private(set) var support: EngineSupport
    let logger: Logger
    let registry: DefinitionRegistry
    let ledger: Ledger
    let plugins: [String: any StepPlugin]
    public private(set) var statistics = Statistics()
    /// Called on the loop thread after every successful COMMIT of a batch or a command, with
    /// the ledger's head (the daemon anchors it outside the database: LedgerAnchor.swift).
    public var onCommit: ((_ head: LedgerHead) -> Void)?

    private var heap = Heap<DueEntry>()
    /// Each scheduled instance's current heap entry: its sequence (older entries are stale)
    /// and due instant.
    private var generation: [Int64: (sequence: UInt64, due: Int64)] = [:]
    private var nextSequence: UInt64 = 0
    private var timer: TimerHandle?
    /// How long the timer waits before retrying after a failed batch (0 after a success).
    public private(set) var retryDelayMilliseconds: Int64 = 0
    /// The next start time of each triggered workflow (see EngineTriggers.swift).
    var triggerNext: [String: Int64] = [:]
    /// Most items one transaction takes; the rest run in the next turn of the loop.
    static let batchLimit = 5000

    /// Opens the engine on a migrated database (`EngineSchema`), and schedules every running instance.
    public init(db: Database, clock: any EngineClock, support: EngineSupport, plugins: [any StepPlugin], logger: Logger) throws {
        self.db = db
        self.clock = clock
        self.support = support
        self.logger = logger
        self.plugins = Dictionary(plugins.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let validators = StepPluginRegistry.builtIn
        registry = DefinitionRegistry(db: db, checker: WorkflowChecker(calendars: support.calendars, orgChart: support.orgChart, plugins: validators))
        ledger = try Ledger(db: db)
        try rebuildSchedule()
    }

    // MARK: - Definitions

    /// Loads (or reloads) a workflows folder; see `ReloadReport`. Findings of files that did
    /// not load are in `loadErrors`.
    @discardableResult
    public func loadDefinitions(directory: String) -> ReloadReport {
        let report = registry.reload(directory: directory, at: clock.now)
        do {
            try syncTriggers()
        } catch {
            logger.error("cannot read trigger schedules", metadata: ["error": "\(error)"])
        }
        rearm()
        return report
    }

    /// The findings of each workflow file whose latest content did not load, by path.
    public var loadErrors: [String: [Diagnostic]] { registry.loadErrors }

    /// Replaces the org chart and calendars (after their files changed): the next reload
    /// re-checks every workflow file against them, and every running instance's pending due
    /// times are derived again (a calendar that now covers a year turns provisional dates firm).
    public func replaceSupport(_ support: EngineSupport) throws {
        self.support = support
        registry.checker = WorkflowChecker(calendars: support.calendars, orgChart: support.orgChart, plugins: registry.checker.plugins)
        registry.forgetSeenFiles()
        try db.transaction {
            for row in try db.query("SELECT id FROM instance WHERE state = 'running'") {
                let id = try row.int("id")
                guard var instance = try InstanceState.load(id, db: db, registry: registry) else { continue }
                try derive(&instance)
                schedule(id, at: instance.nextDue)
            }
        }
        rearm()
    }

    /// Versions in use by running instances, per workflow.
    public func versionsInUse() throws -> [String: [String: Int]] {
        var result: [String: [String: Int]] = [:]
        for row in try db.query("SELECT workflow, version, count(*) AS n FROM instance WHERE state = 'running' GROUP BY workflow, version") {
            result[try row.text("workflow"), default: [:]][try row.text("version")] = Int(try row.int("n"))
        }
        return result
    }

    /// Registers one file's text as the newest version of its workflow.
    @discardableResult
    public func registerDefinition(path: String, text: String) throws(DiagnosticsError) -> String {
        let version = try registry.register(path: path, text: text, at: clock.now).version
        try? syncTriggers()
        return version
    }

    /// The current definitions: workflow id → (version, title, file).
    public var definitions: [(id: String, version: String, title: String, file: String)] {
        registry.current.keys.sorted().map { id in
            let loaded = registry.current[id]!
            return (id, loaded.version, loaded.definition.title, loaded.definition.file)
        }
    }

    // MARK: - Scheduling

    struct DueEntry: Comparable {
        var due: Int64
        var sequence: UInt64
        var instance: Int64
        static func < (lhs: DueEntry, rhs: DueEntry) -> Bool {
            (lhs.due, lhs.sequence) < (rhs.due, rhs.sequence)
        }
    }

    /// The instant the next item falls due, if any.
    public var nextWakeUp: Date? {
        // Drop superseded entries from the top; the first valid one is the answer.
        while let top = heap.min, generation[top.instance]?.sequence != top.sequence { heap.removeMin() }
        let earliest = [heap.min?.due, triggerNext.values.min()].compactMap { $0 }.min()
        return earliest.map(Millis.date)
    }

    /// Puts an instance's next due instant in the heap (replacing the previous one by generation).
    func schedule(_ instance: Int64, at due: Int64?) {
        nextSequence += 1
        guard let due else {
            generation.removeValue(forKey: instance)
            return
        }
        generation[instance] = (nextSequence, due)
        heap.insert(DueEntry(due: due, sequence: nextSequence, instance: instance))
    }

    /// When an instance is scheduled to wake next, if it is.
    func scheduledDue(_ instance: Int64) -> Date? { generation[instance].map { Millis.date($0.due) } }

    /// Reads the next due instant of every running instance from the database (start-up, and
    /// after a rolled-back batch).
    func rebuildSchedule() throws {
        heap = Heap()
        generation = [:]
        let rows = try db.query("""
            SELECT i.id AS id, (SELECT min(t) FROM (
                SELECT due_at AS t FROM step WHERE instance = i.id AND state = 'pending' AND due_at IS NOT NULL
                UNION ALL SELECT next_repeat_at FROM reminder WHERE instance = i.id AND state = 'open'
                UNION ALL SELECT next_escalation_at FROM reminder WHERE instance = i.id AND state = 'open'
            )) AS next FROM instance i WHERE i.state = 'running'
            """)
        for row in rows {
            schedule(try row.int("id"), at: try row.optionalInt("next"))
        }
        try syncTriggers()
    }

    /// Drives the engine from a loop timer: armed for the next due item (at most a minute
    /// ahead, so a wall-clock step is noticed), re-armed after every batch.
    public func attach(to loop: EventLoop) throws {
        timer = try TimerHandle(loop: loop)
        rearm()
    }

    /// Closes the timer (idempotent).
    public func detach() {
        timer?.close()
        timer = nil
    }

    /// Re-arms the timer for the next due item. A simulated clock moves only when told, so
    /// its engine never arms a timer.
    public func rearm() {
        guard let timer, clock is RealClock else { return }
        timer.stop()
        guard let next = nextWakeUp else { return }
        // After a failed batch (disk full, database locked) wait before retrying, doubling up to
        // a minute, instead of spinning on the same failure.
        let delay = max(retryDelayMilliseconds, max(0, min(60_000, Millis.from(next) - Millis.from(clock.now))))
        do {
            try timer.start(after: UInt64(delay)) { [unowned self] in
                _ = self.runDueLogged()
                self.rearm()
            }
        } catch {
            logger.error("cannot arm the engine timer", metadata: ["error": "\(error)"])
        }
    }

    /// `runDue`, with failures logged and counted instead of thrown (for the timer).
    @discardableResult
    public func runDueLogged() -> BatchReport? {
        do {
            let report = try runDue()
            retryDelayMilliseconds = 0
            return report
        } catch {
            retryDelayMilliseconds = min(60_000, max(1000, retryDelayMilliseconds * 2))
            statistics.failedBatches += 1
            statistics.lastError = "\(error)"
            logger.error("batch rolled back; retrying in \(retryDelayMilliseconds / 1000) s", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Runs everything that is due at the clock's now, in one transaction (group commit).
    /// - Throws: the store's error; the batch is rolled back and the schedule re-read, so the
    ///   same items run again next time.
    @discardableResult
    public func runDue() throws -> BatchReport {
        let now = clock.now
        let nowMillis = Millis.from(now)
        var report = BatchReport()
        do {
            try db.transaction {
                report.itemsRun += try fireTriggers(now: now)
                while report.itemsRun < Self.batchLimit, let top = heap.min, top.due <= nowMillis {
                    heap.removeMin()
                    guard generation[top.instance]?.sequence == top.sequence else { continue }
                    generation.removeValue(forKey: top.instance)
                    let result = try advance(top.instance, now: now)
                    report.itemsRun += result.ran
                    report.lateItems += result.late
                    report.longestLateSeconds = max(report.longestLateSeconds, result.longestLate / 1000)
                    schedule(top.instance, at: result.next)
                }
            }
        } catch {
            try? ledger.reloadHead()
            try? rebuildSchedule()
            throw error
        }
        ledgerCommitted()  // anchor call site (LedgerVerification.swift)
        statistics.itemsRun += report.itemsRun
        if report.lateItems > 0 {
            statistics.caughtUp += report.lateItems
            statistics.longestLateSeconds = max(statistics.longestLateSeconds, report.longestLateSeconds)
            logger.notice("\(report.lateItems) steps caught up, longest \(Self.duration(report.longestLateSeconds)) late")
        }
        if report.itemsRun >= Self.batchLimit, let timer {
            // More is due: continue on the next turn of the loop, letting clients in between.
            timer.stop()
            try? timer.start(after: 0) { [unowned self] in
                _ = self.runDueLogged()
                self.rearm()
            }
        }
        return report
    }

    /// Moves a simulated clock to `target`, running everything due on the way at the instant
    /// it falls due (so nothing is late), one transaction per instant.
    /// - Returns: how many items ran.
    public func advanceSimulatedClock(to target: Date) throws(EngineError) -> Int {
        guard let simulated = clock as? SimulatedClock else {
            throw EngineError(code: "real_clock", "the daemon runs on the real clock; start it with --simulated-clock to move time")
        }
        guard target >= simulated.now else {
            throw EngineError(code: "clock_backwards", "the simulated clock only moves forward (now \(InstanceContext.local(simulated.now, support.timeZone)))")
        }
        var ran = 0
        do {
            while let next = nextWakeUp, next <= target {
                simulated.set(next)
                ran += try runDue().itemsRun
            }
            simulated.set(target)
            ran += try runDue().itemsRun
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(code: "store_error", "\(error)")
        }
        return ran
    }

    static func duration(_ seconds: Int64) -> String {
        let days = seconds / 86_400, hours = seconds % 86_400 / 3600, minutes = seconds % 3600 / 60
        if days > 0 { return "\(days)d\(hours)h" }
        if hours > 0 { return "\(hours)h\(minutes)m" }
        if minutes > 0 { return "\(minutes)m" }
        return "\(seconds)s"
    }
}

@available(*, unavailable)
extension WorkflowEngine: Sendable {}

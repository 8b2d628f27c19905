import ControlProtocol
import EventLoop
import Foundation
import HeapModule
import Logging
import SQLiteStore
import StepPluginAPI
import WorkflowModel

/// Runs workflow instances: keeps every running instance's next due instant in a min-heap,
/// wakes with one libuv timer, and drains what is due in bounded slices, each one unit of
/// work (`UnitOfWork`) committed in one transaction.
///
/// A step's transition and all of its effects (reminder rows, ledger rows) are written in the
/// same transaction, so after a crash the engine resumes from the last commit: nothing that
/// fell due is lost and nothing runs twice. Between two slices the loop serves the control
/// socket, signals, file events and the watchdog (an idle handle drives the slices).
///
/// - Important: Loop thread only. Not `Sendable`.
public final class WorkflowEngine {
    /// What one slice (or a whole `runDue`) did.
    public struct BatchReport: Sendable, Equatable {
        public var itemsRun = 0
        /// Items that ran more than a second after they fell due (after downtime).
        public var lateItems = 0
        public var longestLateSeconds: Int64 = 0
        public var slices = 0

        mutating func add(_ other: BatchReport) {
            itemsRun += other.itemsRun
            lateItems += other.lateItems
            longestLateSeconds = max(longestLateSeconds, other.longestLateSeconds)
            slices += other.slices
        }
    }

    /// Counters for `status`.
    public struct Statistics: Sendable, Equatable {
        public var itemsRun = 0
        public var caughtUp = 0
        public var longestLateSeconds: Int64 = 0
        public var failedBatches = 0
        public var lastError: String?
        public var runningInstances = 0
        public var openReminders = 0
        /// The longest slice so far, writing and COMMIT included (the loop's longest stall).
        public var longestSliceMilliseconds = 0.0
    }

    /// How much one slice may do before the loop gets its turn again.
    public struct SliceBudget: Sendable, Equatable {
        public var maxItems: Int
        public var maxMilliseconds: Double
        public init(maxItems: Int = 2000, maxMilliseconds: Double = 10) {
            self.maxItems = maxItems
            self.maxMilliseconds = maxMilliseconds
        }
    }

    /// The ledger's actor for what the daemon does by itself.
    static let daemonActor = "huayingd"

    let db: Database
    let store: any EngineStore
    public let clock: any EngineClock
    public private(set) var support: EngineSupport
    /// The calendar years the daemon has warned are missing (EngineProvisional.swift).
    let provisionalWarnings = ProvisionalYearWarnings()
    let logger: Logger
    let registry: DefinitionRegistry
    let ledger: Ledger
    let plugins: [String: any StepPlugin]
    /// External plugins and the outbox's bookkeeping (Outbox.swift).
    let outbox: OutboxState
    public private(set) var statistics = Statistics()
    public var sliceBudget = SliceBudget()
    /// Called on the loop thread after every successful COMMIT of a unit of work, with the
    /// ledger's head (the daemon anchors it outside the database: LedgerAnchor.swift).
    public var onCommit: ((_ head: LedgerHead) -> Void)?

    private var heap = Heap<DueEntry>()
    /// Each scheduled instance's current heap entry: its sequence (older entries are stale)
    /// and due instant. Changed only when a unit of work commits.
    private var generation: [Int64: (sequence: UInt64, due: Int64)] = [:]
    private var nextSequence: UInt64 = 0
    private(set) var nextInstanceID: Int64 = 1
    private(set) var nextReminderID: Int64 = 1
    private var timer: TimerHandle?
    private var idle: IdleHandle?
    /// How long the timer waits before retrying after a failed slice (0 after a success).
    public private(set) var retryDelayMilliseconds: Int64 = 0
    /// The next start time of each triggered workflow (see EngineTriggers.swift).
    var triggerNext: [String: Int64] = [:]
    /// `start` requests waiting for the next slice, which commits them together.
    private var pendingStarts: [PendingStart] = []
    /// A simulated-clock advance in progress (the daemon's `clock` command).
    private var advance: ClockAdvance?
    /// Verifications running on worker threads, called off by ``detach()``.
    var verifications: [VerificationCancellation] = []

    /// Opens the engine on a migrated database (`EngineSchema`), and schedules every running instance.
    public init(db: Database, clock: any EngineClock, support: EngineSupport, plugins: [any StepPlugin], logger: Logger) throws {
        self.db = db
        store = SQLiteEngineStore(db: db)
        self.clock = clock
        self.support = support
        self.logger = logger
        self.plugins = Dictionary(plugins.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let validators = Self.registry(of: plugins)
        outbox = OutboxState(compiledIn: validators)
        registry = DefinitionRegistry(db: db, checker: WorkflowChecker(calendars: support.calendars, orgChart: support.orgChart, plugins: validators))
        ledger = try Ledger(db: db)
        (nextInstanceID, nextReminderID) = try store.nextIdentities()
        let counts = try store.liveCounts()
        statistics.runningInstances = counts.runningInstances
        statistics.openReminders = counts.openReminders
        try rebuildSchedule()
    }

    // MARK: - Definitions

    /// Loads (or reloads) a workflows folder; see `ReloadReport`. Findings of files that did
    /// not load are in `loadErrors`.
    @discardableResult
    public func loadDefinitions(directory: String) -> ReloadReport {
        let report = registry.reload(directory: directory, at: clock.now)
        syncTriggersLogged()
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
        provisionalWarnings.warned = []
        registry.checker = WorkflowChecker(calendars: support.calendars, orgChart: support.orgChart, plugins: registry.checker.plugins)
        registry.forgetSeenFiles()
        var running: [Int64] = []
        try store.loadSchedule { id, _ in running.append(id) }
        // Sliced like any backlog: a county has thousands of running instances.
        var index = 0
        while index < running.count {
            let chunk = running[index..<min(running.count, index + 500)]
            try perform { work in
                for id in chunk {
                    guard var instance = try work.instance(id), instance.isRunning else { continue }
                    try derive(&instance, in: work, force: true)
                    // Open reminders' acknowledgement deadlines, repeats and escalations too (a
                    // calendar that gained a year: its make-up days move them).
                    _ = try rescheduleOpenReminders(of: &instance, in: work, actor: Self.daemonActor, now: clock.now)
                    work.put(instance)
                }
            }
            index += chunk.count
        }
        rearm()
    }

    /// Versions in use by running instances, per workflow.
    public func versionsInUse() throws -> [String: [String: Int]] {
        var result: [String: [String: Int]] = [:]
        for row in try db.query("SELECT workflow, version, count(*) AS n FROM instance WHERE state = '\(InstanceStatus.running.rawValue)' GROUP BY workflow, version") {
            result[try row.text("workflow"), default: [:]][try row.text("version")] = Int(try row.int("n"))
        }
        return result
    }

    /// Registers one file's text as the newest version of its workflow.
    @discardableResult
    public func registerDefinition(path: String, text: String) throws(DiagnosticsError) -> String {
        let version = try registry.register(path: path, text: text, at: clock.now).version
        syncTriggersLogged()
        return version
    }

    /// The current definitions: workflow id → (version, title, file).
    public var definitions: [(id: String, version: String, title: String, file: String)] {
        registry.current.keys.sorted().map { id in
            let loaded = registry.current[id]!
            return (id, loaded.version, loaded.definition.title, loaded.definition.file)
        }
    }

    // MARK: - Units of work

    /// Runs `body` on a fresh unit of work and commits what it changed in one transaction;
    /// only then does the result replace the engine's state. If `body` throws or the commit
    /// fails, the unit of work is dropped and the engine is as it was.
    @discardableResult
    func perform<T>(_ body: (UnitOfWork) throws -> T) throws -> T {
        try ledger.checkKey()
        let work = UnitOfWork(engine: self)
        do {
            let result = try store.transaction { () throws -> (T, ChangeSet) in
                let result = try body(work)
                try writeOutbox(work)
                return (result, work.changes())
            }
            adopt(work)
            return result
        } catch {
            discard(work)
            throw error
        }
    }

    /// Makes a committed unit of work the engine's state.
    private func adopt(_ work: UnitOfWork) {
        ledger.committed(work.head, entries: work.ledger)
        nextInstanceID = work.nextInstanceID
        nextReminderID = work.nextReminderID
        for (workflow, next) in work.triggerNext { triggerNext[workflow] = next }
        let counts = work.countChanges()
        statistics.runningInstances += counts.running
        statistics.openReminders += counts.openReminders
        for instance in work.touched { schedule(instance.id, at: instance.nextDue) }
        // Entries taken for instances this batch did not reschedule are still owed a place.
        for entry in work.takenFromHeap where generation[entry.instance]?.sequence == entry.sequence {
            heap.insert(entry)
        }
        // Every commit, rows or not: the anchor also keeps the clock's high-water mark.
        onCommit?(work.head)
        outboxCommitted(work)
    }

    /// Forgets a dropped unit of work: only the heap entries it took out go back.
    private func discard(_ work: UnitOfWork) {
        for entry in work.takenFromHeap { heap.insert(entry) }
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

    /// The earliest valid heap entry, dropping superseded ones from the top.
    private func peekDue() -> DueEntry? {
        while let top = heap.min, generation[top.instance]?.sequence != top.sequence { heap.removeMin() }
        return heap.min
    }

    /// The instant the next item falls due (ms), if any.
    private var nextWakeMillis: Int64? {
        [peekDue()?.due, triggerNext.values.min()].compactMap { $0 }.min()
    }

    /// The same, as a unit of work in progress sees it (its own reschedules and triggers).
    private func nextWakeMillis(in work: UnitOfWork) -> Int64? {
        var triggers = triggerNext
        for (workflow, next) in work.triggerNext { triggers[workflow] = next }
        return [peekDue()?.due, work.peekRescheduled()?.due, triggers.values.min()].compactMap { $0 }.min()
    }

    /// Takes the earliest instance due at or before `limit` (ms) for a unit of work: from the
    /// committed heap (the entry is remembered, to be given back if the work is dropped) or from
    /// the work's own reschedules.
    private func takeDue(upTo limit: Int64, in work: UnitOfWork) -> Int64? {
        let committed = peekDue(), local = work.peekRescheduled()
        if let local, local.due <= limit, committed.map({ local.due <= $0.due }) ?? true {
            work.takeRescheduled()
            return local.instance
        }
        guard let committed, committed.due <= limit else { return nil }
        heap.removeMin()
        work.takenFromHeap.append(committed)
        return committed.instance
    }

    /// The instant the next item falls due, if any.
    public var nextWakeUp: Date? { nextWakeMillis.map(Millis.date) }

    /// Puts an instance's next due instant in the heap (replacing the previous one by generation).
    private func schedule(_ instance: Int64, at due: Int64?) {
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

    /// Reads the next due instant of every running instance (start-up): one indexed scan.
    func rebuildSchedule() throws {
        var entries: [DueEntry] = []
        var generations: [Int64: (sequence: UInt64, due: Int64)] = [:]
        try store.loadSchedule { id, due in
            guard let due else { return }
            nextSequence += 1
            generations[id] = (nextSequence, due)
            entries.append(DueEntry(due: due, sequence: nextSequence, instance: id))
        }
        heap = Heap(entries)
        generation = generations
        try syncTriggers()
    }

    /// A snapshot of the in-memory state that must equal what the database says (tests: a
    /// rolled-back batch leaves memory equal to the database).
    func consistencySnapshot() throws -> (schedule: [Int64: Int64], head: LedgerHead, nextIDs: [Int64], counts: [Int]) {
        var schedule: [Int64: Int64] = [:]
        for (id, entry) in generation { schedule[id] = entry.due }
        return (schedule, ledger.head, [nextInstanceID, nextReminderID], [statistics.runningInstances, statistics.openReminders])
    }

    /// The same, read from the database alone.
    func storedSnapshot() throws -> (schedule: [Int64: Int64], head: LedgerHead, nextIDs: [Int64], counts: [Int]) {
        var schedule: [Int64: Int64] = [:]
        try store.loadSchedule { id, due in if let due { schedule[id] = due } }
        let ids = try store.nextIdentities()
        let counts = try store.liveCounts()
        return (schedule, try Ledger.readHead(db), [ids.instance, ids.reminder], [counts.runningInstances, counts.openReminders])
    }

    // MARK: - Driving from the loop

    /// Drives the engine from the loop: a timer armed for the next due item (at most a minute
    /// ahead, so a wall-clock step is noticed), and an idle handle that runs one bounded slice
    /// per loop iteration while work is due.
    public func attach(to loop: EventLoop) throws {
        timer = try TimerHandle(loop: loop)
        idle = try IdleHandle(loop: loop)
        rearm()
    }

    /// Closes the timer and the idle handle (idempotent). A simulated advance in progress is
    /// answered with `shutting_down` (or `reason`, when the engine stops for another cause than
    /// a stop: a lost state database); starts waiting for their slice are refused the same way,
    /// and so is a ledger verification running on a worker thread (it is called off).
    public func detach(reason: EngineError? = nil) {
        cancelVerifications()
        timer?.close()
        timer = nil
        idle?.close()
        idle = nil
        func refusal(_ what: String) -> EngineError {
            reason.map { EngineError($0.code, "\($0.message); \(what)") } ?? EngineError(.shuttingDown, "the daemon is stopping; \(what)")
        }
        let starts = pendingStarts
        pendingStarts = []
        for start in starts { start.completion(.failure(refusal("the instance was not started"))) }
        if let advance {
            self.advance = nil
            advance.completion(.failure(refusal("the clock stopped at \(InstanceContext.local(clock.now, support.timeZone)) after \(advance.ran) items")))
        }
    }

    /// Re-arms the loop for what is due next: the idle handle when something is due now (or
    /// starts wait), else the timer for the next due instant. A simulated clock moves only when
    /// told, so it never arms the timer.
    public func rearm() {
        guard let timer, let idle else { return }
        timer.stop()
        if retryDelayMilliseconds > 0 {
            idle.stop()
            try? timer.start(after: UInt64(retryDelayMilliseconds)) { [unowned self] in
                self.retryDelayMilliseconds = 0
                self.rearm()
            }
            return
        }
        let nowMillis = Millis.from(clock.now)
        let dueNow = clock is RealClock && (nextWakeMillis.map { $0 <= nowMillis } ?? false)
        if dueNow || !pendingStarts.isEmpty || advance != nil {
            startIdle()
            return
        }
        idle.stop()
        guard clock is RealClock, let next = nextWakeMillis else { return }
        let delay = max(0, min(60_000, next - nowMillis))
        do {
            try timer.start(after: UInt64(delay)) { [unowned self] in self.rearm() }
        } catch {
            logger.error("cannot arm the engine timer", metadata: ["error": "\(error)"])
        }
    }

    private func startIdle() {
        guard let idle else { return }
        do {
            try idle.start { [unowned self] in self.runLoopSlice() }
        } catch {
            logger.error("cannot start the engine's slices", metadata: ["error": "\(error)"])
        }
    }

    /// One turn of the idle handle: commit waiting starts, then one slice of due work (or of a
    /// simulated advance), then re-arm.
    private func runLoopSlice() {
        flushPendingStarts()
        if advance != nil {
            continueAdvance()
        } else if clock is RealClock {
            do {
                _ = try runSlice(now: nil)
                retryDelayMilliseconds = 0
            } catch {
                noteFailure(error)
            }
        }
        rearm()
    }

    private func noteFailure(_ error: any Error) {
        retryDelayMilliseconds = min(60_000, max(1000, retryDelayMilliseconds * 2))
        statistics.failedBatches += 1
        statistics.lastError = "\(error)"
        logger.error("batch rolled back; retrying in \(retryDelayMilliseconds / 1000) s", metadata: ["error": "\(error)"])
    }

    // MARK: - Running what is due

    /// Runs one bounded slice of what is due at the clock's now (`now` nil) or at `now`.
    /// - Returns: what it did, and whether more is due.
    @discardableResult
    func runSlice(now fixed: Date?) throws -> (report: BatchReport, more: Bool) {
        let started = DispatchTime.now().uptimeNanoseconds
        let budgetNanos = processingBudgetNanos
        var processed: UInt64 = 0
        let report: BatchReport = try perform { work in
            defer { processed = DispatchTime.now().uptimeNanoseconds }
            work.report.slices = 1
            var now = fixed ?? clock.now
            work.report.itemsRun += try fireTriggers(now: now, in: work)
            while work.report.itemsRun < sliceBudget.maxItems, DispatchTime.now().uptimeNanoseconds - started < budgetNanos {
                if fixed == nil { now = clock.now }
                guard let id = takeDue(upTo: Millis.from(now), in: work) else { break }
                try runItems(of: id, in: work, now: now)
            }
            return work.report
        }
        measureSlice(started: started, processed: processed)
        record(report)
        let more = nextWakeMillis.map { $0 <= Millis.from(fixed ?? clock.now) } ?? false
        return (report, more)
    }

    /// Advances one instance in a slice, adding what it did to the slice's report.
    private func runItems(of id: Int64, in work: UnitOfWork, now: Date) throws {
        let result = try advance(id, in: work, now: now)
        work.report.itemsRun += result.ran
        work.report.lateItems += result.late
        work.report.longestLateSeconds = max(work.report.longestLateSeconds, result.longestLate / 1000)
    }

    /// The share of a slice spent before writing (the rest is writing and COMMIT), measured on
    /// the last slice, so the whole slice, writing included, stays within `sliceBudget`.
    private var processingShare = 0.5

    private var processingBudgetNanos: UInt64 {
        UInt64(sliceBudget.maxMilliseconds * processingShare * 1_000_000)
    }

    private func measureSlice(started: UInt64, processed: UInt64) {
        let now = DispatchTime.now().uptimeNanoseconds
        let total = Double(now - started), before = Double(max(started, processed) - started)
        if total > 0 { processingShare = min(1, max(0.05, before / total)) }
        logger.trace("slice", metadata: ["ms": "\(Int(total / 1_000_000))", "processing_ms": "\(Int(before / 1_000_000))"])
        statistics.longestSliceMilliseconds = max(statistics.longestSliceMilliseconds, total / 1_000_000)
    }

    private func record(_ report: BatchReport) {
        statistics.itemsRun += report.itemsRun
        if report.lateItems > 0 {
            statistics.caughtUp += report.lateItems
            statistics.longestLateSeconds = max(statistics.longestLateSeconds, report.longestLateSeconds)
            logger.notice("\(report.lateItems) steps caught up, longest \(Self.duration(report.longestLateSeconds)) late")
        }
    }

    /// Runs everything that is due at the clock's now, slice after slice (tests, tools).
    /// - Throws: the store's error; that slice is rolled back, earlier slices stay committed.
    @discardableResult
    public func runDue() throws -> BatchReport {
        var total = BatchReport()
        flushPendingStarts()
        while true {
            let (report, more) = try runSlice(now: clock is RealClock ? nil : clock.now)
            total.add(report)
            if !more { break }
        }
        return total
    }

    /// `runDue`, with failures logged and counted instead of thrown.
    @discardableResult
    public func runDueLogged() -> BatchReport? {
        do {
            let report = try runDue()
            retryDelayMilliseconds = 0
            return report
        } catch {
            noteFailure(error)
            return nil
        }
    }

    // MARK: - Group commit of starts

    struct PendingStart {
        var workflow: String
        var params: [String: String]
        var actor: String
        var completion: (Result<StartReport, EngineError>) -> Void
    }

    /// Queues a `start`: every start queued before the next slice commits in one transaction,
    /// and `completion` runs only after that COMMIT (or with the refusal).
    /// - Important: Needs `attach(to:)`; without a loop, call `flushPendingStarts()`.
    public func enqueueStart(workflow: String, params: [String: String], actor: String,
                             completion: @escaping (Result<StartReport, EngineError>) -> Void) {
        pendingStarts.append(PendingStart(workflow: workflow, params: params, actor: actor, completion: completion))
        if pendingStarts.count == 1 { rearm() }
    }

    /// Commits every queued start in one unit of work and answers each.
    public func flushPendingStarts() {
        guard !pendingStarts.isEmpty else { return }
        let starts = pendingStarts
        pendingStarts = []
        var outcomes: [Result<StartReport, EngineError>] = []
        do {
            outcomes = try perform { work in
                try starts.map { start -> Result<StartReport, EngineError> in
                    do {
                        return .success(try startInstance(workflow: start.workflow, params: start.params, actor: start.actor, in: work))
                    } catch let error as EngineError {
                        return .failure(error)
                    }
                }
            }
        } catch {
            logger.error("starts rolled back", metadata: ["error": "\(error)", "starts": "\(starts.count)"])
            let refusal = EngineError(.storeError, "the start was rolled back: \(error)")
            outcomes = Array(repeating: .failure(refusal), count: starts.count)
        }
        for (start, outcome) in zip(starts, outcomes) {
            if case let .success(report) = outcome {
                logger.info("instance started", metadata: ["instance.id": "\(report.id)", "workflow": "\(start.workflow)", "actor": "\(start.actor)"])
            }
            start.completion(outcome)
        }
    }

    // MARK: - The simulated clock

    /// Jumps of the simulated clock longer than this need `confirm` (a typo of a year).
    public static let largeClockJumpSeconds: TimeInterval = 366 * 86_400

    struct ClockAdvance {
        var target: Date
        var ran = 0
        var completion: (Result<Int, EngineError>) -> Void
    }

    private func checkAdvance(to target: Date, confirmed: Bool) throws(EngineError) -> SimulatedClock {
        guard let simulated = clock as? SimulatedClock else {
            throw EngineError(.realClock, "the daemon runs on the real clock; start it with --simulated-clock to move time")
        }
        guard target >= simulated.now else {
            throw EngineError(.clockBackwards, "the simulated clock only moves forward (now \(InstanceContext.local(simulated.now, support.timeZone)))")
        }
        guard confirmed || target.timeIntervalSince(simulated.now) <= Self.largeClockJumpSeconds else {
            let days = Int(target.timeIntervalSince(simulated.now) / 86_400)
            throw EngineError(.clockJumpTooLarge, "moving the clock \(days) days ahead (to \(InstanceContext.local(target, support.timeZone))) runs everything due on the way; repeat with --yes if that is meant")
        }
        guard advance == nil else {
            throw EngineError(.clockBusy, "the clock is already moving to \(InstanceContext.local(advance!.target, support.timeZone)); wait for that to finish")
        }
        return simulated
    }

    /// Moves a simulated clock to `target` in slices on the loop, running everything due on
    /// the way at the instant it falls due (so nothing is late); other requests are served
    /// between slices. `completion` gets the number of items run, or where it stopped.
    public func advanceSimulatedClock(to target: Date, confirmed: Bool = false,
                                      completion: @escaping (Result<Int, EngineError>) -> Void) throws(EngineError) {
        _ = try checkAdvance(to: target, confirmed: confirmed)
        advance = ClockAdvance(target: target, completion: completion)
        rearm()
    }

    /// The same, all at once (tests and tools without a loop).
    public func advanceSimulatedClock(to target: Date, confirmed: Bool = false) throws(EngineError) -> Int {
        _ = try checkAdvance(to: target, confirmed: confirmed)
        var result: Result<Int, EngineError>?
        advance = ClockAdvance(target: target) { result = $0 }
        flushPendingStarts()
        while result == nil { continueAdvance() }
        return try result!.get()
    }

    /// One slice of a simulated advance: items due at successive instants up to the target,
    /// each run at its own instant, all committed together.
    private func continueAdvance() {
        guard var state = advance, let simulated = clock as? SimulatedClock else { return }
        let startedAt = simulated.now
        let started = DispatchTime.now().uptimeNanoseconds
        let budgetNanos = processingBudgetNanos
        var processed: UInt64 = 0
        var finished = false
        do {
            let report: BatchReport = try perform { work in
                defer { processed = DispatchTime.now().uptimeNanoseconds }
                work.report.slices = 1
                while work.report.itemsRun < sliceBudget.maxItems, DispatchTime.now().uptimeNanoseconds - started < budgetNanos {
                    let target = Millis.from(state.target)
                    guard let next = nextWakeMillis(in: work), next <= target else {
                        simulated.set(state.target)
                        finished = true
                        break
                    }
                    simulated.set(Millis.date(next))
                    let now = simulated.now
                    work.report.itemsRun += try fireTriggers(now: now, in: work)
                    while work.report.itemsRun < sliceBudget.maxItems, DispatchTime.now().uptimeNanoseconds - started < budgetNanos,
                          let id = takeDue(upTo: next, in: work) {
                        try runItems(of: id, in: work, now: now)
                    }
                }
                return work.report
            }
            measureSlice(started: started, processed: processed)
            record(report)
            state.ran += report.itemsRun
            if finished {
                advance = nil
                state.completion(.success(state.ran))
            } else {
                advance = state
            }
        } catch {
            simulated.rewind(to: startedAt)
            statistics.failedBatches += 1
            statistics.lastError = "\(error)"
            logger.error("clock advance stopped: a batch rolled back", metadata: ["error": "\(error)", "clock": "\(InstanceContext.local(startedAt, support.timeZone))"])
            advance = nil
            let refusal = error as? EngineError ?? EngineError(.storeError, "\(error)")
            state.completion(.failure(EngineError(refusal.code, "the clock stopped at \(InstanceContext.local(startedAt, support.timeZone)) after \(state.ran) items (everything up to then is committed): \(refusal.message)")))
        }
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

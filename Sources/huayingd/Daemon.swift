import ControlProtocol
import EventLoop
import Foundation
import Logging
import Escalate
import Record
import Remind
import SQLiteStore
import WorkflowEngine
import WorkflowModel
#if canImport(Glibc)
import Glibc
#endif

/// The running daemon: owns the loop, the store, the lock, the control socket and the signal
/// handles, and tears them all down in order.
///
/// - Important: Everything here lives on the loop thread (the main thread).
final class Daemon {
    let config: HuayingConfig
    let logger: Logger
    private let loop: EventLoop
    private let lock: StateDirectoryLock
    private let database: Database
    private var server: ControlServer?
    private var signals: [SignalHandle] = []
    private let startedAt = Date()
    private var runID: Int64 = 0
    private var stopping = false
    private let notifier: SystemdNotifier
    private let engine: WorkflowEngine
    private let engineCommands: EngineCommandHandlers
    private let reloader: ConfigurationReloader
    private let plugins: PluginRunner  // external plugins and the outbox (PluginRunner.swift)
    private let authorization: Authorization
    private let anchorKeeper: LedgerAnchorKeeper  // ledger anchor (LedgerAnchorKeeper.swift)
    private let backups: BackupHandler  // backup command (BackupHandler.swift)
    private var stateWatch: StateFileWatch
    private var stateTimer: TimerHandle?
    /// Set once `state.db` or its WAL was deleted or replaced: writes are refused from then on.
    private var stateLost: String?
    /// Whether the engine, reloads and plugins were stopped after `stateLost` was set.
    private var recordingStopped = false

    /// Commands that change the state database; refused once the state is lost.
    static let writeCommands: Set<String> = ["start", "update", "cancel", "ack", "clock", "reload", "retry", "away", "nudge"]
    /// How often the state files are checked for deletion or replacement (besides after every
    /// commit and before every write command).
    static let stateCheckMilliseconds: UInt64 = 1000

    /// Opens everything; on failure, releases what was opened and throws.
    /// - Parameters:
    ///   - initState: create a new, empty database even where a previous run left traces.
    ///   - limits: what one control client may hold.
    ///   - ledgerOptions: `--accept-restore`, `--key-ledger`.
    init(config: HuayingConfig, clock: any EngineClock, logger: Logger, initState: Bool = false,
         limits: ControlServer.Limits = ControlServer.Limits(), ledgerOptions: LedgerAnchorKeeper.StartOptions = .init()) throws {
        self.config = config
        self.logger = logger
        notifier = SystemdNotifier(logger: logger)
        authorization = Authorization(adminGroup: config.adminGroup, staffFile: config.staffFile)
        try StateFiles.prepareDirectory(config)
        let traces = StateFiles.traces(config)
        let earlierRuns = StateFiles.hasEarlierRuns(config)
        lock = try StateDirectoryLock(path: config.lockPath)
        if let notice = try StateFiles.checkDatabaseBeforeOpening(config, traces: traces, initState: initState) {
            logger.notice("\(notice)")
        }

        var options = DatabaseOptions()
        options.synchronous = DatabaseOptions.Synchronous(rawValue: config.sqliteSynchronous.rawValue.uppercased()) ?? .full
        database = try StateFiles.openDatabase(config, options: options)
        let applied: [String]
        do {
            applied = try StateSchema.migrator().migrate(database)
        } catch let error as SQLiteError {
            throw StateFiles.Refusal(description: StateFiles.explain(error, path: config.databasePath))
        } catch let error as MigrationError {
            throw StateFiles.Refusal(description: StateFiles.explain(error, path: config.databasePath))
        }
        for name in applied { logger.info("schema migration applied", metadata: ["migration": "\(name)"]) }
        let crashed = try database.queryOne("SELECT count(*) AS n FROM daemon_run WHERE outcome IS NULL")?.int("n") ?? 0
        if crashed > 0 {
            logger.warning("previous run did not stop cleanly; resuming from the last commit", metadata: ["runs": "\(crashed)"])
            try database.execute("UPDATE daemon_run SET outcome = 'crashed' WHERE outcome IS NULL")
        }
        engine = try WorkflowEngine(db: database, clock: clock, support: try Self.loadSupport(config, logger: logger),
                                    plugins: [RecordPlugin(), RemindPlugin(), EscalatePlugin()], logger: logger)
        // Ledger anchor, key and clock checks (LedgerAnchorKeeper.swift): before anything can append.
        let ledgerKey = try config.ledgerKeyFile.map { path throws in try LedgerKey.load(path: path) }
        engine.useLedgerKey(ledgerKey)
        anchorKeeper = LedgerAnchorKeeper(path: config.ledgerAnchorPath, clock: clock, logger: logger)
        var anchorOptions = ledgerOptions
        anchorOptions.initState = initState
        try anchorKeeper.check(engine, keyConfigured: ledgerKey != nil, options: anchorOptions, earlierRuns: earlierRuns)
        engine.onCommit = { [anchorKeeper] head in anchorKeeper.committed(head) }
        reloader = ConfigurationReloader(config: config, engine: engine, logger: logger)
        plugins = PluginRunner(config: config, engine: engine, logger: logger)
        // Unowned both ways: the daemon holds both, and a strong pair would keep each other alive.
        reloader.beforeReload = { [unowned plugins] in plugins.load() }
        reloader.afterReload = { [unowned plugins] in plugins.reportUnknownRobots() }
        reloader.reload(trigger: "start")
        logger.info("workflows loaded", metadata: ["workflows": "\(engine.definitions.map(\.id).joined(separator: ","))"])
        stateWatch = StateFileWatch(databasePath: config.databasePath)

        loop = try EventLoop()
        engineCommands = EngineCommandHandlers(engine: engine, timeZone: config.timeZone, loop: loop)
        backups = BackupHandler(loop: loop, database: database, key: ledgerKey, logger: logger)
        do {
            try engine.attach(to: loop)
            try reloader.start(on: loop)
            try plugins.start(on: loop, stateDirectory: config.stateDirectory)
            plugins.onChange = { [unowned reloader] in reloader.reload(trigger: "plugins folder change", pluginsRead: true) }
            try installSignalHandlers()
            if try ControlSocketPath.prepare(config.socketPath) {
                logger.notice("removed stale control socket", metadata: ["socket": "\(config.socketPath)"])
            }
            let authorization = authorization
            server = try ControlServer(
                loop: loop, path: config.socketPath, limits: limits, logger: logger,
                isAdmin: { caller in
                    if case .admin = authorization.access(of: caller, chart: nil) { return true }
                    return false
                },
                handler: { [unowned self] request, caller, reply in
                    self.handle(request, from: caller, reply: reply)
                })
            try ControlSocketPath.setGroup(config.socketPath, group: config.socketGroup)
            let timer = try TimerHandle(loop: loop)
            stateTimer = timer
            try timer.start(after: Self.stateCheckMilliseconds, repeating: Self.stateCheckMilliseconds) { [unowned self] in
                self.checkStateFiles()
            }
            timer.unref()
            // From here on every commit also checks the state files (two stat calls), so at most
            // one batch goes into a deleted database before writing stops.
            engine.onCommit = { [anchorKeeper, weak self] head in
                anchorKeeper.committed(head)
                self?.checkStateFilesAfterCommit()
            }
            // Recorded last, so a start that fails above leaves no run behind to be mistaken for a crash.
            try database.execute("INSERT INTO daemon_run (started_at, pid, version) VALUES (?, ?, ?)",
                                 [.text(DaemonTime.iso8601(startedAt)), .integer(Int64(getpid())), .text(HuayingVersion.current)])
            runID = database.lastInsertRowID
            try StateFiles.recordRun(config, startedAt: DaemonTime.iso8601(startedAt))
        } catch {
            closeHandles()
            try? loop.close()
            throw error
        }
    }

    /// Runs the loop until a stop signal, then tears down. Returns the exit status.
    func run() -> Int32 {
        logger.info("huayingd ready", metadata: [
            "version": "\(HuayingVersion.current)", "socket": "\(config.socketPath)",
            "state": "\(config.databasePath)", "pid": "\(getpid())",
        ])
        notifier.start(on: loop, status: "running; control socket \(config.socketPath)")
        loop.run()
        return shutdown()
    }

    private func installSignalHandlers() throws {
        for signal in [SIGTERM, SIGINT, SIGHUP] {
            let handle = try SignalHandle(loop: loop)
            signals.append(handle)
            try handle.start(signal) { [unowned self] number in self.received(signal: number) }
        }
    }

    private func received(signal: Int32) {
        switch signal {
        case SIGHUP:
            if let stateLost {
                logger.critical("SIGHUP ignored: the state database is lost (\(stateLost)); restore it (docs/operations.md)")
                return
            }
            notifier.reloading(status: "reloading (SIGHUP)")

            logger.notice("SIGHUP received; reloading workflows, org chart and calendars")
            let result = reloader.reload(trigger: "SIGHUP")
            notifier.ready(status: "running; reloaded: \(result.loaded.count) loaded, \(result.failed.count) failed, \(result.removed.count) removed")
        default:
            stop(reason: signal == SIGTERM ? "SIGTERM" : "SIGINT")
        }
    }

    /// Stops accepting work and ends `run()` (idempotent). The signal handles stay open until
    /// `shutdown()`, so a second SIGTERM meanwhile is absorbed rather than killing the process.
    func stop(reason: String) {
        guard !stopping else { return }
        stopping = true
        logger.info("stopping", metadata: ["reason": "\(reason)"])
        notifier.stopping(status: "stopping (\(reason))")
        server?.close()
        server = nil
        loop.stop()
    }

    private func closeHandles() {
        server?.close()
        server = nil
        stateTimer?.close()
        stateTimer = nil
        for handle in signals { handle.close() }
        signals.removeAll()
        notifier.close()
        reloader.close()
        plugins.close()
        backups.close()
        engine.detach()
    }

    /// Closes the loop, the store and the lock; removes the socket file.
    private func shutdown() -> Int32 {
        var status: Int32 = 0
        closeHandles()
        do {
            try loop.close()
        } catch {
            logger.error("event loop did not close cleanly", metadata: ["error": "\(error)"])
            status = 1
        }
        do {
            if stateLost == nil {
                try database.execute("UPDATE daemon_run SET stopped_at = ?, outcome = 'stopped' WHERE id = ?",
                                     [.text(DaemonTime.iso8601(Date())), .integer(runID)])
            }
            try database.close()
        } catch {
            logger.error("closing the state database failed", metadata: ["error": "\(error)"])
            status = 1
        }
        anchorKeeper.close()  // the last anchor is written (LedgerAnchorKeeper.swift)
        // PipeServer.close() removed the socket file; a stale one is removed at the next start.
        lock.release()
        logger.info("stopped", metadata: ["status": "\(status)"])
        return status
    }

    // MARK: - Control requests

    private static let commands = ["status", "workflows", "reload"] + EngineCommandHandlers.commands + BackupHandler.commands

    /// The single entry point for every control request: who is asking (from the socket's
    /// peer credentials), whether they may, then dispatch. Every refusal is logged.
    private func handle(_ request: ControlRequest, from caller: Caller, reply: @escaping (ControlResponse) -> Void) {
        let logger = logger
        let answer: ControlResponse? = handle(request, from: caller) { grant in
            // Commands answered after a commit, a sliced advance or a pool-thread check.
            engineCommands.handleLater(request, grant: grant) { result in
                switch result {
                case let .success(value): reply(.success(value))
                case let .failure(error):
                    logger.notice("control request refused", metadata: ["client.user": "\(caller)", "command": "\(request.command)", "reason": "\(error.code)"])
                    reply(.failure(error))
                }
            }
        }
        if let answer { reply(answer) }
    }

    /// - Returns: the answer, or nil when `later` took the request (it answers through its reply).
    private func handle(_ request: ControlRequest, from caller: Caller, later: (Authorization.Grant) -> Void) -> ControlResponse? {
        let grant: Authorization.Grant
        switch authorization.authorize(request, caller: caller, chart: engine.support.orgChart) {
        case let .success(granted): grant = granted
        case let .failure(error):
            logger.notice("control request refused", metadata: ["client.user": "\(caller)", "command": "\(request.command)", "reason": "\(error.code)"])
            return .failure(error)
        }
        if Self.writeCommands.contains(request.command) {
            checkStateFiles()
            if let stateLost {
                logger.notice("control request refused", metadata: ["client.user": "\(caller)", "command": "\(request.command)", "reason": "state_lost"])
                return .failure(ControlError(.stateLost, """
                    \(request.command) refused: the state database is lost (\(stateLost)); nothing can be recorded. \
                    An admin must stop huayingd and restore state.db from a backup (docs/operations.md)
                    """))
            }
        }
        do {
            switch request.command {
            case "status":
                return .success(try ControlCoding.value(status()))
            case "workflows":
                return .success(try ControlCoding.value(reloader.workflows()))
            case "reload":
                return .success(try ControlCoding.value(reloader.reload(trigger: "request")))
            case _ where BackupHandler.commands.contains(request.command):
                return .success(try backups.handle(request, caller: caller))
            case _ where EngineCommandHandlers.deferred.contains(request.command):
                later(grant)
                return nil
            case _ where EngineCommandHandlers.commands.contains(request.command):
                return .success(try engineCommands.handle(request, grant: grant))
            default:
                return .failure(.unknownCommand(request.command, known: Self.commands))
            }
        } catch let error as ControlError {
            logger.notice("control request refused", metadata: ["client.user": "\(caller)", "command": "\(request.command)", "reason": "\(error.code)"])
            return .failure(error)
        } catch {
            logger.error("control request failed", metadata: ["command": "\(request.command)", "error": "\(error)"])
            return .failure(ControlError(.internalError, "\(request.command) failed: \(error)"))
        }
    }

    private func status() throws -> StatusResult {
        let runs = try database.queryOne("SELECT count(*) AS n FROM daemon_run")?.int("n") ?? 0
        let unclean = try database.queryOne("SELECT count(*) AS n FROM daemon_run WHERE outcome = 'crashed'")?.int("n") ?? 0
        let now = engine.clock.now
        return StatusResult(
            daemonVersion: HuayingVersion.current,
            pid: getpid(),
            startedAt: DaemonTime.iso8601(startedAt, zone: config.timeZone),
            uptimeSeconds: (Date().timeIntervalSince(startedAt) * 1000).rounded() / 1000,
            clockMode: engine.clock.mode,
            now: DaemonTime.iso8601(now, zone: config.timeZone),
            timeZone: config.timeZone.identifier,
            statePath: config.databasePath,
            socketPath: config.socketPath,
            configPath: config.file,
            counts: (server?.counts ?? [:]).merging([
                "daemon_runs": Int(runs),
                "crashed_runs": Int(unclean),
                "state_lost": stateLost == nil ? 0 : 1,
            ]) { $1 }.merging(try engine.counts()) { $1 }.merging(plugins.counts()) { $1 },
            lastReload: reloader.last,
            lastError: stateLost.map { "state database lost: \($0)" } ?? engine.statistics.lastError,
            stateError: stateLost.map {
                "state database lost: \($0); writes are refused; stop huayingd and restore state.db from a backup (docs/operations.md)"
            })
    }

    // MARK: - State files

    /// Checks that `state.db` and its WAL are still the files opened; the first time they are
    /// not, stops all writing (engine timer, reloads, write commands) and says so loudly.
    private func checkStateFiles() {
        if stateLost == nil, let problem = stateWatch.check() { markStateLost(problem) }
        if stateLost != nil { stopRecording() }
    }

    /// The same after each of the engine's commits. This runs inside the engine's commit, so
    /// the engine is stopped on the next loop turn (the state timer, restarted due at once,
    /// runs before the engine's next slice); write commands are refused from now on.
    private func checkStateFilesAfterCommit() {
        guard stateLost == nil, let problem = stateWatch.check() else { return }
        markStateLost(problem)
        do {
            try stateTimer?.start(after: 0, repeating: Self.stateCheckMilliseconds) { [unowned self] in self.checkStateFiles() }
        } catch {
            logger.error("cannot stop the engine at once; it stops at the next state check", metadata: ["error": "\(error)"])
        }
    }

    private func markStateLost(_ problem: String) {
        stateLost = problem
        logger.critical("""
            state database lost: \(problem); huayingd stops recording (no steps run, every write command \
            is refused with state_lost). Stop huayingd, restore state.db from a backup (docs/operations.md), then start it again
            """, metadata: ["state": "\(config.databasePath)"])
        notifier.status("STATE LOST: \(problem); writes refused")
    }

    /// Stops the engine, reloads and plugins (once).
    private func stopRecording() {
        guard !recordingStopped else { return }
        recordingStopped = true
        engine.detach(reason: EngineError(.stateLost, "the state database was lost (\(stateLost ?? "?")); nothing more is recorded"))
        reloader.close()
        plugins.close()
    }


}

@available(*, unavailable)
extension Daemon: Sendable {}

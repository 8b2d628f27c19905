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
    private let authorization: Authorization
    private let anchorKeeper: LedgerAnchorKeeper  // ledger anchor (LedgerAnchorKeeper.swift)
    private let backups: BackupHandler  // backup command (BackupHandler.swift)

    /// Opens everything; on failure, releases what was opened and throws.
    init(config: HuayingConfig, clock: any EngineClock, logger: Logger,
         ledgerOptions: LedgerAnchorKeeper.StartOptions = .init()) throws {
        self.config = config
        self.logger = logger
        notifier = SystemdNotifier(logger: logger)
        authorization = Authorization(adminGroup: config.adminGroup, staffFile: config.staffFile)
        try FileManager.default.createDirectory(atPath: config.stateDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o750])
        lock = try StateDirectoryLock(path: config.lockPath)

        var options = DatabaseOptions()
        options.synchronous = DatabaseOptions.Synchronous(rawValue: config.sqliteSynchronous.rawValue.uppercased()) ?? .full
        database = try Database(path: config.databasePath, options: options)
        let applied = try StateSchema.migrator().migrate(database)
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
        try anchorKeeper.check(engine, keyConfigured: ledgerKey != nil, options: ledgerOptions)
        engine.onCommit = { [anchorKeeper] head in anchorKeeper.committed(head) }
        reloader = ConfigurationReloader(config: config, engine: engine, logger: logger)
        reloader.reload(trigger: "start")
        logger.info("workflows loaded", metadata: ["workflows": "\(engine.definitions.map(\.id).joined(separator: ","))"])
        engineCommands = EngineCommandHandlers(engine: engine, timeZone: config.timeZone)

        loop = try EventLoop()
        backups = BackupHandler(loop: loop, database: database, key: ledgerKey, logger: logger)
        do {
            try engine.attach(to: loop)
            try reloader.start(on: loop)
            try installSignalHandlers()
            if try ControlSocketPath.prepare(config.socketPath) {
                logger.notice("removed stale control socket", metadata: ["socket": "\(config.socketPath)"])
            }
            server = try ControlServer(loop: loop, path: config.socketPath, logger: logger) { [unowned self] request, caller in
                self.handle(request, from: caller)
            }
            try ControlSocketPath.setGroup(config.socketPath, group: config.socketGroup)
            // Recorded last, so a start that fails above leaves no run behind to be mistaken for a crash.
            try database.execute("INSERT INTO daemon_run (started_at, pid, version) VALUES (?, ?, ?)",
                                 [.text(DaemonTime.iso8601(startedAt)), .integer(Int64(getpid())), .text(HuayingVersion.current)])
            runID = database.lastInsertRowID
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
        for handle in signals { handle.close() }
        signals.removeAll()
        notifier.close()
        reloader.close()
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
            try database.execute("UPDATE daemon_run SET stopped_at = ?, outcome = 'stopped' WHERE id = ?",
                                 [.text(DaemonTime.iso8601(Date())), .integer(runID)])
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
    private func handle(_ request: ControlRequest, from caller: Caller) -> ControlResponse {
        let grant: Authorization.Grant
        switch authorization.authorize(request, caller: caller, chart: engine.support.orgChart) {
        case let .success(granted): grant = granted
        case let .failure(error):
            logger.notice("control request refused", metadata: ["client.user": "\(caller)", "command": "\(request.command)", "reason": "\(error.code)"])
            return .failure(error)
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
            return .failure(ControlError(code: "internal_error", message: "\(request.command) failed: \(error)"))
        }
    }

    private func status() throws -> StatusResult {
        let runs = try database.queryOne("SELECT count(*) AS n FROM daemon_run")?.int("n") ?? 0
        let unclean = try database.queryOne("SELECT count(*) AS n FROM daemon_run WHERE outcome = 'crashed'")?.int("n") ?? 0
        let now = engine.clock.now
        return StatusResult(
            daemonVersion: HuayingVersion.current,
            pid: getpid(),
            startedAt: DaemonTime.iso8601(startedAt),
            uptimeSeconds: (Date().timeIntervalSince(startedAt) * 1000).rounded() / 1000,
            clockMode: engine.clock.mode,
            now: DaemonTime.iso8601(now, zone: config.timeZone),
            timeZone: config.timeZone.identifier,
            statePath: config.databasePath,
            socketPath: config.socketPath,
            configPath: config.file,
            counts: [
                "requests_served": server?.requestsServed ?? 0,
                "requests_refused": server?.requestsRefused ?? 0,
                "open_connections": server?.openConnections ?? 0,
                "daemon_runs": Int(runs),
                "crashed_runs": Int(unclean),
            ].merging(try engine.counts()) { $1 },
            lastReload: reloader.last,
            lastError: engine.statistics.lastError)
    }

}

@available(*, unavailable)
extension Daemon: Sendable {}

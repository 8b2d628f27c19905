import ArgumentParser
import ControlProtocol
import Foundation
import Logging
import WorkflowEngine
import WorkflowModel
#if canImport(Glibc)
import Glibc
#endif

/// `huayingd`: the workflow daemon, in the foreground (systemd runs it as a service).
@main
struct HuayingDaemon: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "huayingd",
        abstract: "The Huaying workflow daemon: runs the timed steps of governance workflows.",
        discussion: """
            Runs in the foreground until SIGTERM or SIGINT (then closes everything and exits 0). \
            SIGHUP is logged. Exit codes: 0 clean stop or valid config; 1 could not start or \
            stop cleanly; 2 bad command line or config file.
            """,
        version: HuayingVersion.current
    )

    @Option(name: .long, help: ArgumentHelp("The config file (default: $HUAYING_CONFIG, ./etc/huaying.yaml, /etc/huaying/huaying.yaml).", valueName: "path"))
    var config: String?

    @Flag(name: .long, help: "Validate the config file and exit (0 valid, 2 invalid).")
    var checkConfig = false

    @Option(name: .long, help: ArgumentHelp("Use this state directory instead of the config's (database and lock).", valueName: "dir"))
    var stateDir: String?

    @Option(name: .long, help: ArgumentHelp("Listen on this socket instead of the config's.", valueName: "path"))
    var socket: String?

    @Option(name: .long, help: ArgumentHelp("Run on a simulated clock starting at this instant (e.g. 2026-11-01T09:00+08:00); it moves only with `huaying clock`.", valueName: "instant"))
    var simulatedClock: String?

    @Flag(name: .long, help: "Start on a database whose ledger ends before the anchored head (a restored backup), or whose anchor (ledger-head.json) is missing although state.runs shows earlier runs, and record the restore in the ledger.")
    var acceptRestore = false

    @Flag(name: .long, help: "Key an existing ledger with the configured ledger.hmac_key_file from its next row on.")
    var keyLedger = false

    @Flag(name: .long, help: "Create a new, empty state database even though this state directory was used before (its state.db is missing or empty); the old ledger-head.json is moved aside. Without it huayingd refuses, so that a lost database is restored rather than silently replaced.")
    var initState = false

    @Option(name: .long, help: ArgumentHelp("Close a control connection that sends no complete request for this long (default 60).", valueName: "seconds"))
    var idleTimeout: Double = 60

    @Option(name: .long, help: ArgumentHelp("Control connections open at once, all users together (default 256).", valueName: "n"))
    var maxConnections = 256

    @Option(name: .long, help: ArgumentHelp("Control connections one user may hold open at once (default 32).", valueName: "n"))
    var maxConnectionsPerUser = 32

    @Option(name: .long, help: ArgumentHelp("Of --max-connections, how many only admins may use (default 16).", valueName: "n"))
    var adminConnectionReserve = 16

    @Option(name: .long, help: ArgumentHelp("Stop reading a control client's requests while this many bytes of its answers are unsent (default 4194304).", valueName: "bytes"))
    var maxUnsentOutput = 4 << 20

    @Option(name: .long, help: ArgumentHelp("Disconnect a control client whose answers stay unsent over the bound this long (default 30).", valueName: "seconds"))
    var stalledOutputTimeout: Double = 30

    func validate() throws {
        guard idleTimeout > 0, stalledOutputTimeout > 0 else {
            throw ValidationError("--idle-timeout and --stalled-output-timeout must be positive numbers of seconds")
        }
        guard maxConnections > 0, maxConnectionsPerUser > 0, adminConnectionReserve >= 0, adminConnectionReserve < maxConnections,
              maxUnsentOutput > 0 else {
            throw ValidationError("--max-connections and --max-connections-per-user must be positive, --admin-connection-reserve below --max-connections, --max-unsent-output positive")
        }
    }

    /// The control socket's limits from the command line.
    var limits: ControlServer.Limits {
        var limits = ControlServer.Limits()
        limits.idleTimeoutMilliseconds = UInt64((idleTimeout * 1000).rounded())
        limits.maxConnections = maxConnections
        limits.maxConnectionsPerUser = maxConnectionsPerUser
        limits.adminReserve = adminConnectionReserve
        limits.maxUnsentOutputBytes = maxUnsentOutput
        limits.stalledOutputTimeoutMilliseconds = UInt64((stalledOutputTimeout * 1000).rounded())
        return limits
    }

    func run() throws {
        // State files are for the daemon's user and group only, whatever umask it was started
        // with (systemd's UMask= or a shell's 022): the database, its WAL, the lock, the run log.
        umask(0o027)
        let path = config ?? HuayingConfig.defaultPath()
        var settings: HuayingConfig
        do {
            settings = try HuayingConfig.load(path: path)
        } catch {
            for diagnostic in error.diagnostics { printError("huayingd: \(diagnostic)") }
            throw ExitCode(2)
        }
        let cwd = FileManager.default.currentDirectoryPath
        if let stateDir { settings.stateDirectory = HuayingConfig.absolute(stateDir, relativeTo: cwd) }
        if let socket { settings.socketPath = HuayingConfig.absolute(socket, relativeTo: cwd) }

        var clock: any EngineClock = RealClock()
        if let simulatedClock {
            guard let start = DaemonTime.parse(simulatedClock, zone: settings.timeZone) else {
                printError("huayingd: --simulated-clock: cannot read '\(simulatedClock)'; expected e.g. 2026-11-01T09:00+08:00")
                throw ExitCode(2)
            }
            clock = SimulatedClock(start: start)
        }

        if checkConfig {
            // Said only once every check below has passed.
            var valid = [
                "\(settings.file): configuration is valid",
                "  state:     \(settings.databasePath)",
                "  socket:    \(settings.socketPath)",
                "  workflows: \(settings.workflowsDirectory)",
                "  staff:     \(settings.staffFile)",
                "  calendars: \(settings.calendarsDirectory)",
                "  time zone: \(settings.timeZone.identifier)",
            ]
            if let keyFile = settings.ledgerKeyFile {
                do {
                    let key = try LedgerKey.load(path: keyFile)
                    valid.append("  ledger:    keyed with \(keyFile) (key id \(key.id))")
                } catch {
                    printError("huayingd: \(error)")
                    throw ExitCode(2)
                }
            }
            // Staff, calendars and workflows: the same checks as `huaying lint`.
            let report = Linter.lint(paths: [settings.workflowsDirectory], config: settings)
            for finding in report.diagnostics { printError("huayingd: \(finding)") }
            // The daemon would refuse to start without it (it gives the socket this group).
            var groupMissing = false
            if let group = settings.socketGroup, getgrnam(group) == nil {
                printError("huayingd: \(Self.location(of: "socket_group", in: settings.file)): access.socket_group '\(group)' is not a group on this machine; create it (`groupadd \(group)`) or change the setting")
                groupMissing = true
            }
            // Not fatal (root and the daemon's user stay admins), but nobody else would be one.
            if let group = settings.adminGroup, getgrnam(group) == nil {
                printError("huayingd: \(Self.location(of: "admin_group", in: settings.file)): warning: access.admin_group '\(group)' is not a group on this machine, so only root and the daemon's own user are admins; create it (`groupadd \(group)`) or change the setting")
            }
            if report.errorCount > 0 {
                printError("huayingd: \(report.errorCount) error(s) in staff, calendars or workflows")
            }
            if report.errorCount > 0 || groupMissing { throw ExitCode(2) }
            for line in valid { print(ControlCharacters.terminalSafe(line)) }
            return
        }

        // A client that hangs up mid-response must not kill the daemon.
        signal(SIGPIPE, SIG_IGN)
        // The signal mask is inherited across exec: a launcher that blocks signals (a test
        // runner's worker thread, some supervisors) would leave SIGTERM pending forever.
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        pthread_sigmask(SIG_SETMASK, &unblocked, nil)
        let level = Logger.Level(rawValue: settings.logLevel.rawValue) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = JournalLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "huayingd")

        let daemon: Daemon
        do {
            daemon = try Daemon(config: settings, clock: clock, logger: logger, initState: initState, limits: limits,
                                ledgerOptions: .init(acceptRestore: acceptRestore, keyLedger: keyLedger))

        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
        let status = daemon.run()
        if status != 0 { throw ExitCode(status) }
    }
}

extension HuayingDaemon {
    /// `file:line:col` of the first `key:` in a YAML file, or the file alone when not found.
    static func location(of key: String, in file: String) -> String {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return file }
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.drop { $0 == " " }
            if trimmed.hasPrefix(key + ":") {
                return "\(file):\(index + 1):\(line.count - trimmed.count + 1)"
            }
        }
        return file
    }
}

/// Writes one line to standard error, control characters as visible escapes: a finding quotes
/// what a file says, and "\e[2J" is valid YAML.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((ControlCharacters.terminalSafe(line) + "\n").utf8))
}

import ArgumentParser
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

    @Flag(name: .long, help: "Start on a database whose ledger ends before the anchored head (a restored backup), and record the restore in the ledger.")
    var acceptRestore = false

    @Flag(name: .long, help: "Key an existing ledger with the configured ledger.hmac_key_file from its next row on.")
    var keyLedger = false

    func run() throws {
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
            print("\(settings.file): configuration is valid")
            print("  state:     \(settings.databasePath)")
            print("  socket:    \(settings.socketPath)")
            print("  workflows: \(settings.workflowsDirectory)")
            print("  staff:     \(settings.staffFile)")
            print("  calendars: \(settings.calendarsDirectory)")
            print("  time zone: \(settings.timeZone.identifier)")
            if let keyFile = settings.ledgerKeyFile {
                do {
                    let key = try LedgerKey.load(path: keyFile)
                    print("  ledger:    keyed with \(keyFile) (key id \(key.id))")
                } catch {
                    printError("huayingd: \(error)")
                    throw ExitCode(2)
                }
            }
            // Staff, calendars and workflows: the same checks as `huaying lint`.
            let report = Linter.lint(paths: [settings.workflowsDirectory], config: settings)
            for finding in report.diagnostics { printError("huayingd: \(finding)") }
            if report.errorCount > 0 {
                printError("huayingd: \(report.errorCount) error(s) in staff, calendars or workflows")
                throw ExitCode(2)
            }
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
            daemon = try Daemon(config: settings, clock: clock, logger: logger,
                                ledgerOptions: .init(acceptRestore: acceptRestore, keyLedger: keyLedger))
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
        let status = daemon.run()
        if status != 0 { throw ExitCode(status) }
    }
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

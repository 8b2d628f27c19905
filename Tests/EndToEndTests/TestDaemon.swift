import ControlProtocol
import Foundation
@_exported import HuayingTestSupport  // every end-to-end test file runs programs
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Where `swift build` put the real binaries: next to the test bundle.
enum Binaries {
    static func path(_ name: String) -> String {
        var candidates: [URL] = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
            Bundle.main.bundleURL,
        ]
        // Fallback for unusual runners: the package's .build/debug.
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug"))
        for directory in candidates {
            let file = directory.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: file) { return file }
        }
        Issue.record("cannot find the \(name) binary near \(candidates.map(\.path))")
        return name
    }
}

/// Runs the real `huaying` CLI, in English on an untold terminal width unless `locale` says
/// otherwise (`environment` is added last).
func huaying(_ arguments: [String], locale: CLILocale = .english, environment: [String: String] = [:]) throws -> ProgramResult {
    try runProgram(Binaries.path("huaying"), arguments, environment: locale.environment.merging(environment) { $1 })
}

/// The locale a test runs the CLI in: the runner's own must not decide what a test sees.
enum CLILocale: Sendable, CaseIterable {
    case english, chinese

    /// The runner's environment with the locale set, and without COLUMNS and NO_COLOR.
    var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for name in ["LC_ALL", "LC_MESSAGES", "LANG", "COLUMNS", "NO_COLOR"] { environment[name] = nil }
        environment["LANG"] = self == .english ? "en_US.UTF-8" : "zh_CN.UTF-8"
        return environment
    }
}

/// A temporary folder with a config file whose every path points inside it.
struct TestSite {
    let root: URL
    var configPath: String { root.appendingPathComponent("etc/huaying.yaml").path }
    var socketPath: String { root.appendingPathComponent("run/huaying.sock").path }
    var stateDirectory: String { root.appendingPathComponent("state").path }

    init() throws {
        // Short names: a Unix socket path must fit in 108 bytes.
        root = URL(fileURLWithPath: "/tmp").appendingPathComponent("hy-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("etc"), withIntermediateDirectories: true)
        try """
            paths:
              state_dir: ../state
              socket: ../run/huaying.sock
              workflows: ../workflows
              plugins: ../plugins
              staff: staff.yaml
              calendars: calendars
            time_zone: Asia/Shanghai
            log_level: debug
            sqlite:
              synchronous: normal
            election:
              province: 四川省
              candidate_list_lead_days: 5
            """.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// A site with the checkout's org chart (etc/staff.yaml) and calendars (etc/calendars/),
    /// the named workflow files of the checkout's workflows/ folder, and `workflowTexts`
    /// (file name → YAML) written next to them.
    init(checkoutWorkflows: [String], workflowTexts: [String: String] = [:]) throws {
        try self.init()
        let files = FileManager.default
        let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        try files.copyItem(at: checkout.appendingPathComponent("etc/staff.yaml"), to: root.appendingPathComponent("etc/staff.yaml"))
        try files.copyItem(at: checkout.appendingPathComponent("etc/calendars"), to: root.appendingPathComponent("etc/calendars"))
        let workflows = root.appendingPathComponent("workflows")
        try files.createDirectory(at: workflows, withIntermediateDirectories: true)
        for name in checkoutWorkflows {
            try files.copyItem(at: checkout.appendingPathComponent("workflows/\(name)"), to: workflows.appendingPathComponent(name))
        }
        for (name, text) in workflowTexts {
            try text.write(to: workflows.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
    }

    /// The state database (for tests that inspect or tamper with it while the daemon is stopped).
    var databasePath: String { root.appendingPathComponent("state/state.db").path }

    func remove() {
        try? FileManager.default.removeItem(at: root)
    }
}

/// A real `huayingd` process, started in the foreground with a test site's config.
final class TestDaemon {
    let process: ChildProcess
    let stderrFile: URL
    let socketPath: String

    /// Starts the daemon and waits until it answers `status` (or exits, which fails the test).
    /// `environment` is added to (and overrides) the test runner's environment; `umask`, when
    /// given, is set by a shell that then execs the daemon (same pid).
    init(site: TestSite, extraArguments: [String] = [], socketPath: String? = nil,
         environment: [String: String] = [:], umask: mode_t? = nil) throws {
        self.socketPath = socketPath ?? site.socketPath
        stderrFile = site.root.appendingPathComponent("huayingd-\(UUID().uuidString.prefix(6)).log")
        var executable = Binaries.path("huayingd")
        var arguments = ["--config", site.configPath] + extraArguments
        if let umask {
            arguments = ["-c", "umask \(String(umask, radix: 8)); exec \"$0\" \"$@\"", executable] + arguments
            executable = "/bin/sh"
        }
        var childEnvironment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        // `make test-sanitizers` checks the daemons for leaks apart from the test runner, whose
        // own (Foundation's, in the test helpers) it does not judge.
        if let options = childEnvironment["HUAYING_DAEMON_ASAN_OPTIONS"] { childEnvironment["ASAN_OPTIONS"] = options }
        process = try ChildProcess(executable: executable, arguments: arguments, environment: childEnvironment, stderrPath: stderrFile.path)
        try waitUntilAnswering()
    }

    /// Polls the socket until a connection succeeds. This waits for a process to start,
    /// not for a timer: the daemon's clock plays no part.
    private func waitUntilAnswering() throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if !process.isRunning {
                throw Failure("huayingd exited with \(process.terminationStatus) before answering:\n\(log)")
            }
            // A status answer means start-up finished (the loop runs), not merely that the socket is bound.
            if let client = try? ControlClient(socketPath: socketPath),
               (try? client.call(ControlRequest(command: "status")))?.ok == true { return }
            usleep(20_000)
        }
        throw Failure("huayingd did not answer on \(socketPath) within 30 s:\n\(log)")
    }

    var log: String { (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? "" }

    /// Sends a signal and waits for the exit status. A daemon that has not exited after
    /// 30 s fails the test and is killed, so a broken shutdown cannot hang the suite.
    @discardableResult
    func stop(signal: Int32 = SIGTERM) -> Int32 {
        process.send(signal)
        if !process.wait(seconds: 30) {
            Issue.record("huayingd did not exit within 30 s of signal \(signal):\n\(log)")
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

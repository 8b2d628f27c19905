import ControlProtocol
import Foundation
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

/// The result of running a program to completion.
struct ProgramResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a program and waits for it (stdout and stderr go through files, so a chatty
/// program never blocks on a full pipe).
func runProgram(_ path: String, _ arguments: [String], environment: [String: String]? = nil) throws -> ProgramResult {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("huaying-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let out = directory.appendingPathComponent("out"), err = directory.appendingPathComponent("err")
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    _ = FileManager.default.createFile(atPath: err.path, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let environment { process.environment = environment }
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return ProgramResult(status: process.terminationStatus,
                         stdout: try String(contentsOf: out, encoding: .utf8),
                         stderr: try String(contentsOf: err, encoding: .utf8))
}

/// Runs the real `huaying` CLI.
func huaying(_ arguments: [String]) throws -> ProgramResult {
    try runProgram(Binaries.path("huaying"), arguments)
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
            """.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    func remove() {
        try? FileManager.default.removeItem(at: root)
    }
}

/// A real `huayingd` process, started in the foreground with a test site's config.
final class TestDaemon {
    let process = Process()
    let stderrFile: URL
    let socketPath: String

    /// Starts the daemon and waits until its socket answers (or it exits, which fails the test).
    init(site: TestSite, extraArguments: [String] = [], socketPath: String? = nil) throws {
        self.socketPath = socketPath ?? site.socketPath
        stderrFile = site.root.appendingPathComponent("huayingd-\(UUID().uuidString.prefix(6)).log")
        _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: Binaries.path("huayingd"))
        process.arguments = ["--config", site.configPath] + extraArguments
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
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
            if (try? ControlClient(socketPath: socketPath)) != nil { return }
            usleep(20_000)
        }
        throw Failure("huayingd did not answer on \(socketPath) within 30 s:\n\(log)")
    }

    var log: String { (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? "" }

    /// Sends a signal and waits for the exit status. A daemon that has not exited after
    /// 30 s fails the test and is killed, so a broken shutdown cannot hang the suite.
    @discardableResult
    func stop(signal: Int32 = SIGTERM) -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
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

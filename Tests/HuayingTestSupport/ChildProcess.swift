import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn` and reaped with `waitpid`, for tests that run
/// the real binaries.
///
/// Why not Foundation's `Process`: it learns that a child exited from a SIGCHLD handler, and
/// the EventLoop tests (libuv's `uv_spawn`, in the same test binary) reset SIGCHLD to its
/// default when their loop closes — after which `Process.waitUntilExit()` can wait forever.
/// `waitpid` on our own pid needs no handler.
public final class ChildProcess: @unchecked Sendable {  // used from one test at a time; the pid and status are guarded below
    public struct SpawnError: Error, CustomStringConvertible {
        public var executable: String
        public var code: Int32
        public var description: String { "posix_spawn \(executable): \(String(cString: strerror(code)))" }
    }

    public let processIdentifier: pid_t
    private let lock = NSLock()
    private var exit: (status: Int32, signalled: Bool)?

    /// Starts a program. Standard input is /dev/null; standard output and error go to the
    /// given files (or /dev/null). The child starts with no blocked signals and default
    /// dispositions, whatever the test runner's thread had.
    public init(executable: String, arguments: [String], environment: [String: String]? = nil,
                stdoutPath: String? = nil, stderrPath: String? = nil) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in env { free(pointer) } }

        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, env)
        guard result == 0 else { throw SpawnError(executable: executable, code: result) }
        processIdentifier = pid
    }

    /// Reaps the child if it has exited (never blocks).
    public var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        if exit != nil { return false }
        return !reap(options: WNOHANG)
    }

    /// Blocks until the child exits.
    public func waitUntilExit() {
        lock.lock()
        defer { lock.unlock() }
        while exit == nil {
            if !reap(options: 0) { usleep(1000) }
        }
    }

    /// Waits at most `seconds`; true if the child exited.
    public func wait(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while isRunning {
            if Date() >= deadline { return false }
            usleep(5000)
        }
        return true
    }

    /// The exit code, or the number of the signal that ended the child (as `Process` reports it).
    public var terminationStatus: Int32 {
        lock.lock()
        defer { lock.unlock() }
        return exit?.status ?? -1
    }

    /// True when a signal ended the child.
    public var wasSignalled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return exit?.signalled ?? false
    }

    /// Sends a signal (ignored when the child has been reaped).
    public func send(_ signal: Int32) {
        if isRunning { kill(processIdentifier, signal) }
    }

    /// SIGTERM.
    public func terminate() { send(SIGTERM) }

    /// Call with the lock held. Returns true once the child's exit is known.
    private func reap(options: Int32) -> Bool {
        var status: Int32 = 0
        let result = waitpid(processIdentifier, &status, options)
        if result == processIdentifier {
            // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift cannot import.
            let signal = status & 0x7f
            exit = signal == 0 ? ((status >> 8) & 0xff, false) : (signal, true)
            return true
        }
        if result < 0 && errno == ECHILD {
            exit = (-1, false)  // reaped elsewhere: nothing more to learn
            return true
        }
        return false
    }

    deinit {
        if exit == nil {
            kill(processIdentifier, SIGKILL)
            var status: Int32 = 0
            waitpid(processIdentifier, &status, 0)
        }
    }
}

/// The result of running a program to completion.
public struct ProgramResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// Runs a program to completion, its output through files (a chatty program never blocks on a
/// full pipe). Fails loudly rather than hanging: a program still running after `timeout`
/// seconds is killed and reported with status -1.
public func runProgram(_ path: String, _ arguments: [String], environment: [String: String]? = nil,
                       timeout: Double = 120) throws -> ProgramResult {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("huaying-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let out = directory.appendingPathComponent("out").path, err = directory.appendingPathComponent("err").path
    let child = try ChildProcess(executable: path, arguments: arguments, environment: environment, stdoutPath: out, stderrPath: err)
    var timedOut = false
    if !child.wait(seconds: timeout) {
        timedOut = true
        child.send(SIGKILL)
        child.waitUntilExit()
    }
    let stdout = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
    var stderr = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
    if timedOut { stderr += "\n[test harness: killed after \(timeout) s]" }
    return ProgramResult(status: timedOut ? -1 : child.terminationStatus, stdout: stdout, stderr: stderr)
}

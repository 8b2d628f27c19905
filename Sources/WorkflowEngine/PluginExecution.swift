import EventLoop
import Foundation
import Logging

/// One attempt of an external plugin (the exec protocol, `docs/plugins.md`): `uv_spawn` with
/// no shell, argv = [executable], a cleaned environment, cwd in the state directory, its own
/// process group; one JSON request on stdin, one JSON result on stdout.
///
/// Bounded in every direction: stdout over `maximumOutput` bytes kills the group at once;
/// stderr keeps only its last `stderrTail` bytes (logged with the plugin name and idempotency
/// key); past the manifest's timeout the group gets SIGTERM, then SIGKILL after `killGrace`.
/// When the executable exits, anything it left in its group is killed, so no helper outlives
/// the attempt; the child is reaped by libuv. `completion` runs once, on the loop, after the
/// exit and the end of both pipes.
///
/// - Important: Loop thread only.
final class PluginExecution {
    static let maximumOutput = 1 << 20
    static let stderrTail = 64 << 10
    static let killGraceMilliseconds: UInt64 = 5_000

    let attempt: OutboxAttempt
    private let logger: Logger
    private var process: ProcessHandle?
    private var timeoutTimer: TimerHandle?
    private var completion: ((PluginResult) -> Void)?
    private var stdout: [UInt8] = []
    private var stderr: [UInt8] = []
    private var stdoutOpen = true
    private var stderrOpen = true
    private var exit: (status: Int64, signal: Int32)?
    /// Why the daemon ended the attempt itself (timeout, too much output), if it did.
    private var abortReason: String?
    private var killedHard = false
    let startedAt = DispatchTime.now()

    /// The child's pid (tests look for it in /proc).
    var pid: Int32? { process?.pid }

    /// Starts the attempt.
    /// - Throws: when the executable cannot be started (the caller records a retryable failure).
    init(loop: EventLoop, plugin: ExternalPlugin, attempt: OutboxAttempt, workingDirectory: String,
         environment: [String: String], logger: Logger, completion: @escaping (PluginResult) -> Void) throws {
        self.attempt = attempt
        self.logger = logger
        self.completion = completion
        var childEnvironment = ["HUAYING_PROTOCOL": "\(PluginJSON.protocolVersion)"]
        // A notification runs with its robot's variables; a step with the daemon's.
        let source = attempt.environment ?? environment
        for name in plugin.manifest.env { if let value = source[name] { childEnvironment[name] = value } }
        var options = ProcessHandle.Options(executable: plugin.executablePath, environment: childEnvironment,
                                            workingDirectory: workingDirectory, captureStdin: true, captureStdout: true, captureStderr: true)
        options.ownProcessGroup = true
        let timer = try TimerHandle(loop: loop)
        let process: ProcessHandle
        do {
            process = try ProcessHandle(loop: loop, options: options) { [unowned self] status, signal in
                self.exit = (status, signal)
                // Whatever the executable started dies with the attempt.
                if let process = self.process { try? process.killGroup(SIGKILL) }
                self.finishIfDone()
            }
        } catch {
            timer.close()
            throw error
        }
        self.process = process
        timeoutTimer = timer
        do {
            try process.stdout?.startReading(onData: { [unowned self] bytes in self.readStdout(bytes) },
                                             onEnd: { [unowned self] _ in self.stdoutOpen = false; self.finishIfDone() })
            try process.stderr?.startReading(onData: { [unowned self] bytes in self.readStderr(bytes) },
                                             onEnd: { [unowned self] _ in self.stderrOpen = false; self.finishIfDone() })
        } catch {
            abort("cannot read the plugin's output: \(error)", hard: true)
        }
        let stdin = process.stdin
        stdin?.write(attempt.request) { _ in }
        stdin?.shutdown { _ in stdin?.close() }
        try? timer.start(after: UInt64(max(1, plugin.manifest.timeoutSeconds * 1000))) { [unowned self] in
            self.abort("timed out after \(Self.seconds(plugin.manifest.timeoutSeconds)) s", hard: false)
        }
    }

    /// Ends the attempt early: SIGTERM to the group (SIGKILL after the grace), or SIGKILL now.
    func abort(_ reason: String, hard: Bool) {
        guard exit == nil || stdoutOpen || stderrOpen, let process else { return }
        if abortReason == nil { abortReason = reason }
        timeoutTimer?.stop()
        if hard {
            killedHard = true
            try? process.killGroup(SIGKILL)
            return
        }
        try? process.killGroup(SIGTERM)
        try? timeoutTimer?.start(after: Self.killGraceMilliseconds) { [unowned self] in
            self.killedHard = true
            try? self.process?.killGroup(SIGKILL)
        }
    }

    private func readStdout(_ bytes: [UInt8]) {
        guard stdout.count + bytes.count <= Self.maximumOutput else {
            stdout.removeAll()
            process?.stdout?.stopReading()
            stdoutOpen = false
            abort("wrote more than \(Self.maximumOutput) bytes on stdout", hard: true)
            finishIfDone()
            return
        }
        stdout += bytes
    }

    private func readStderr(_ bytes: [UInt8]) {
        stderr += bytes
        if stderr.count > Self.stderrTail * 2 { stderr.removeFirst(stderr.count - Self.stderrTail) }
    }

    private func finishIfDone() {
        guard let exit, !stdoutOpen, !stderrOpen, let completion else { return }
        self.completion = nil
        timeoutTimer?.close()
        timeoutTimer = nil
        process?.close()
        let tail = stderr.count > Self.stderrTail ? Array(stderr.suffix(Self.stderrTail)) : stderr
        let stderrText = String(decoding: tail, as: UTF8.self)
        let metadata: Logger.Metadata = ["plugin": "\(attempt.plugin)", "idempotency_key": "\(attempt.idempotencyKey)",
                                         "attempt": "\(attempt.attempt)"]
        if !stderrText.isEmpty {
            logger.info("plugin stderr: \(stderrText)", metadata: metadata)
        }
        let lastLine = stderrText.split(separator: "\n").last.map { ": " + PluginJSON.excerpt(String($0)) } ?? ""
        let result: PluginResult
        if let abortReason {
            result = .retry(afterSeconds: nil, reason: "the plugin \(abortReason)" + (killedHard ? " and was killed" : " and was stopped"))
        } else if exit.signal != 0 {
            result = .retry(afterSeconds: nil, reason: "the plugin was killed by signal \(exit.signal)\(lastLine)")
        } else if exit.status != 0 {
            result = .retry(afterSeconds: nil, reason: "the plugin exited with status \(exit.status)\(lastLine)")
        } else {
            result = PluginJSON.result(from: stdout)
        }
        completion(result)
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}

@available(*, unavailable)
extension PluginExecution: Sendable {}

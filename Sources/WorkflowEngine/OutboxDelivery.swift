import EventLoop
import Foundation
import Logging

/// Delivers the outbox: after each commit that may have made rows due, and when the next
/// row's `next_at` comes (a real clock; a simulated one moves only with `clock` commands,
/// whose commits wake it too), it claims what is due within each plugin's `concurrency`,
/// starts one `PluginExecution` per row and commits each result in its own transaction.
///
/// - Important: Loop thread only.
public final class OutboxDelivery {
    private let engine: WorkflowEngine
    private let loop: EventLoop
    private let workingDirectory: String
    private let environment: [String: String]
    private let logger: Logger
    private var kick: TimerHandle?
    private var wake: TimerHandle?
    private var running: [Int64: PluginExecution] = [:]
    private var closed = false

    /// Called after each attempt's result committed (tests; the log).
    public var onAttemptFinished: ((OutboxAttempt, PluginResult) -> Void)?
    /// Called when an attempt starts, with the child's pid (tests look for it in /proc).
    public var onAttemptStarted: ((OutboxAttempt, Int32) -> Void)?

    /// - Parameters:
    ///   - workingDirectory: the plugins' cwd (the state directory).
    ///   - environment: where the variables a manifest's `env` names are taken from.
    public init(engine: WorkflowEngine, loop: EventLoop, workingDirectory: String,
                environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger) {
        self.engine = engine
        self.loop = loop
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.logger = logger
    }

    /// Puts rows left `running` by a crash back in line and starts delivering.
    public func start() throws {
        kick = try TimerHandle(loop: loop)
        wake = try TimerHandle(loop: loop)
        wake?.unref()
        let recovered = try engine.recoverOutbox()
        if recovered > 0 {
            logger.notice("outbox rows that were running when the daemon stopped will be delivered again", metadata: ["rows": "\(recovered)"])
        }
        engine.onOutboxChange = { [unowned self] in self.schedule() }
        schedule()
    }

    /// Attempts in progress.
    public var runningCount: Int { running.count }

    /// Looks at the outbox on the next loop turn (never inside the commit that asked). 1 ms,
    /// not 0: libuv 1.44 runs a timer re-armed with 0 inside a timer callback again in the
    /// same pass, without polling I/O in between.
    public func schedule() {
        guard !closed, let kick else { return }
        try? kick.start(after: 1) { [unowned self] in self.deliverDue() }
    }

    /// Claims and starts what is due now.
    public func deliverDue() {
        guard !closed else { return }
        var busy: [String: Int] = [:]
        for execution in running.values { busy[execution.attempt.plugin, default: 0] += 1 }
        let attempts: [OutboxAttempt]
        let next: Date?
        do {
            attempts = try engine.claimOutbox { plugin in
                max(0, (self.engine.externalPlugins[plugin]?.manifest.concurrency ?? 0) - busy[plugin, default: 0])
            }
            // Only a real clock moves by itself; a simulated one wakes the runner through commits.
            next = engine.clock is RealClock ? try engine.nextOutboxDue(after: engine.clock.now) : nil
        } catch {
            logger.error("cannot read or claim outbox rows; trying again in 1 s", metadata: ["error": "\(error)"])
            arm(after: 1000)
            return
        }
        for attempt in attempts { launch(attempt) }
        if let next {
            arm(after: UInt64(max(0, min(60_000, Int64((next.timeIntervalSince(engine.clock.now) * 1000).rounded(.up))))))
        } else {
            wake?.stop()
        }
    }

    /// Looks at the outbox again after `milliseconds` (the wake-up timer is unreferenced: it
    /// does not keep the loop alive).
    private func arm(after milliseconds: UInt64) {
        guard let wake else { return }
        do {
            try wake.start(after: milliseconds) { [unowned self] in self.deliverDue() }
        } catch {
            logger.error("cannot arm the outbox wake-up timer; pending rows wait for the next commit", metadata: ["error": "\(error)"])
        }
    }

    private func launch(_ attempt: OutboxAttempt) {
        guard let plugin = engine.externalPlugins[attempt.plugin] else {
            finish(attempt, .retry(afterSeconds: nil, reason: "plugin '\(attempt.plugin)' is no longer loaded"))
            return
        }
        logger.info("plugin attempt", metadata: ["plugin": "\(attempt.plugin)", "idempotency_key": "\(attempt.idempotencyKey)",
                                                 "attempt": "\(attempt.attempt)"])
        do {
            let execution = try PluginExecution(loop: loop, plugin: plugin, attempt: attempt, workingDirectory: workingDirectory,
                                                environment: environment, logger: logger) { [unowned self] result in
                self.running[attempt.id] = nil
                guard !self.closed else { return }  // stopped with the daemon: the row stays running
                self.finish(attempt, result)
                self.schedule()
            }
            running[attempt.id] = execution
            if let pid = execution.pid { onAttemptStarted?(attempt, pid) }
        } catch {
            finish(attempt, .retry(afterSeconds: nil, reason: "cannot start \(plugin.executablePath): \(error)"))
        }
    }

    private func finish(_ attempt: OutboxAttempt, _ result: PluginResult) {
        if case let .completed(output) = result {
            logger.info("plugin completed", metadata: ["plugin": "\(attempt.plugin)", "idempotency_key": "\(attempt.idempotencyKey)",
                                                       "output.keys": "\(output.keys.sorted().joined(separator: ","))"])
        } else {
            logger.warning("plugin attempt did not complete", metadata: ["plugin": "\(attempt.plugin)", "idempotency_key": "\(attempt.idempotencyKey)",
                                                                          "attempt": "\(attempt.attempt)", "result": "\(result)"])
        }
        do {
            try engine.finishOutbox(attempt.id, result: result)
        } catch {
            // The row stays running; the next start delivers it again with the same key.
            logger.error("cannot commit a plugin's result; it is delivered again after a restart", metadata: [
                "plugin": "\(attempt.plugin)", "idempotency_key": "\(attempt.idempotencyKey)", "error": "\(error)"])
        }
        onAttemptFinished?(attempt, result)
    }

    /// Stops delivering: attempts in progress are killed (their rows stay `running` and are
    /// delivered again, with the same key, at the next start); idempotent.
    public func close() {
        guard !closed else { return }
        closed = true
        engine.onOutboxChange = nil
        for execution in running.values { execution.abort("was stopped with the daemon", hard: true) }
        kick?.close()
        wake?.close()
        kick = nil
        wake = nil
    }
}

@available(*, unavailable)
extension OutboxDelivery: Sendable {}

import EventLoop
import Foundation
import Testing
import WorkflowEngine
import WorkflowModel

/// An engine harness with a plugins folder of small script plugins written by the test, a real
/// loop and the outbox's delivery runner. The engine's clock is simulated; plugin processes
/// and their timeouts are real.
final class ExecHarness {
    let base: EngineHarness
    let plugins: String
    let state: String
    let loop: EventLoop
    private(set) var delivery: OutboxDelivery?
    var finished: [(attempt: OutboxAttempt, result: PluginResult)] = []
    var started: [(attempt: OutboxAttempt, pid: Int32)] = []
    var catalog = PluginCatalog(directory: "", entries: [])

    init(start: String = "2026-11-02T09:00", staff: String? = nil) throws {
        signal(SIGPIPE, SIG_IGN)
        base = try EngineHarness(start: start, workflows: [:], staff: staff)
        plugins = base.directory.appendingPathComponent("plugins").path
        state = base.directory.appendingPathComponent("state").path
        try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        loop = try EventLoop()
    }

    var engine: WorkflowEngine { base.engine }

    /// Writes `plugins/NAME/plugin.yaml` and its executable `run`.
    func writePlugin(_ name: String, script: String, manifest extra: String = "", mode: Int = 0o755) throws {
        let folder = plugins + "/" + name
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try ("name: \(name)\nversion: 1.0.0\nprotocol: 1\nexecutable: run\n" + extra).write(toFile: folder + "/plugin.yaml", atomically: true, encoding: .utf8)
        try writeExecutable(folder + "/run", script, mode: mode_t(mode))
    }

    /// Loads the plugins folder into the engine, then registers the workflows.
    func load(_ workflows: [String: String]) throws {
        catalog = PluginCatalog.load(directory: plugins)
        engine.useExternalPlugins(catalog)
        for (name, text) in workflows {
            try engine.registerDefinition(path: base.directory.appendingPathComponent(name).path, text: text)
        }
    }

    func startDelivery() throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let delivery = OutboxDelivery(engine: engine, loop: loop, workingDirectory: state, environment: ["SECRET": "s3", "HOME": "/root"], logger: logger)
        delivery.onAttemptFinished = { [unowned self] attempt, result in self.finished.append((attempt, result)) }
        delivery.onAttemptStarted = { [unowned self] attempt, pid in self.started.append((attempt, pid)) }
        try delivery.start()
        self.delivery = delivery
    }

    /// Runs the loop until `condition` holds, at most `seconds` of real time.
    @discardableResult
    func run(until condition: () -> Bool, seconds: Double = 30) -> Bool {
        let tick = try? TimerHandle(loop: loop)
        try? tick?.start(after: 20, repeating: 20) {}
        defer { tick?.close() }
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() && Date() < deadline { loop.runOnce(wait: true) }
        return condition()
    }

    /// Runs until `count` attempts have finished.
    @discardableResult
    func runAttempts(_ count: Int, seconds: Double = 30) -> Bool {
        run(until: { finished.count >= count }, seconds: seconds)
    }

    /// Moves the simulated clock and lets the runner claim what became due.
    func advance(seconds: Double) throws {
        _ = try engine.advanceSimulatedClock(to: base.clock.now.addingTimeInterval(seconds))
        delivery?.deliverDue()
    }

    func close() throws {
        delivery?.close()
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    func events(_ instance: Int64) throws -> [LedgerEntry] { try engine.audit(instance: instance) }

    func requests() throws -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: state + "/requests.log", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }
}

/// Writes a script through a close-on-exec descriptor: a descriptor open for writing that a
/// process forked meanwhile by a parallel test inherits makes exec fail with ETXTBSY.
func writeExecutable(_ path: String, _ text: String, mode: mode_t = 0o755) throws {
    unlink(path)
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
    guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    defer { close(fd) }
    let bytes = Array(text.utf8)
    guard bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count else { throw POSIXError(.EIO) }
    guard fchmod(fd, mode) == 0 else { throw POSIXError(.EPERM) }
}

/// Whether `pid` is a zombie child of this test process (exited, never reaped). Checked per
/// pid: suites run in parallel, and another loop's child may be between exit and reaping.
func isUnreapedChild(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    return fields.count > 2 && fields[0] == "Z" && Int32(fields[1]) == getpid()
}

/// Whether a process is still alive (exists and is not a zombie).
func isAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(after: close)...].split(separator: " ").first
    return state != "Z" && state != "X"
}

/// A step using `plugin`, then a record showing its output.
func execWorkflow(plugin: String, with: String = "{ to: \"13800000000\", text: \"{{unit.name}}：周五开会\" }") -> String {
    """
    workflow: exec-\(plugin)
    title: 插件测试
    params:
      unit: { type: unit, title: 社区 }
    calendar: cn-mainland
    steps:
      - id: send
        title: 发送短信
        uses: \(plugin)
        with: \(with)
      - id: logged
        title: 记录
        after: send
        uses: record
        with: { text: "已发送，编号{{steps.send.output.message_id}}" }
    """
}

/// A Python plugin that logs its request to requests.log in its cwd and answers `answer`
/// (Python source of an expression over `req`).
func pythonPlugin(_ answer: String, before: String = "") -> String {
    """
    #!/usr/bin/python3
    import json, os, sys
    req = json.load(sys.stdin)
    with open("requests.log", "a") as log:
        log.write(json.dumps(req, sort_keys=True, ensure_ascii=False) + "\\n")
    \(before)
    print(json.dumps(\(answer)))
    """
}

import Logging

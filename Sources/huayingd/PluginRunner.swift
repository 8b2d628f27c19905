import EventLoop
import Foundation
import Logging
import WorkflowEngine
import WorkflowModel
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's external plugins: reads the plugins folder at start, before every reload
/// (SIGHUP, `huaying reload`) and when the folder or a plugin's folder changes, hands the
/// usable ones to the engine (a broken one is logged with its problems; the daemon keeps
/// running and the steps that use it fail to load), and runs the outbox delivery.
///
/// - Important: Loop thread only.
final class PluginRunner {
    private let config: HuayingConfig
    private let engine: WorkflowEngine
    private let logger: Logger
    private var delivery: OutboxDelivery?
    private var watchers: [FSEventHandle] = []
    private var settleTimer: TimerHandle?
    private var fingerprint = ""
    /// The secrets file in use (nil without one, or when it is unsafe or broken).
    private var secrets: NotifierSecrets?
    private(set) var catalog: PluginCatalog
    /// Called after the folder changed and the plugins were read again (the daemon reloads the
    /// workflows, without reading the folder a second time).
    var onChange: (() -> Void)?

    init(config: HuayingConfig, engine: WorkflowEngine, logger: Logger) {
        self.config = config
        self.engine = engine
        self.logger = logger
        catalog = PluginCatalog(directory: config.pluginsDirectory, entries: [])
    }

    /// Reads the plugins folder; gives the engine the result when it changed.
    /// - Returns: whether anything changed.
    @discardableResult
    func load() -> Bool {
        loadSecrets()
        engine.adminUsers = Self.admins(group: config.adminGroup)  // read again: the group may have changed
        let catalog = PluginCatalog.load(directory: config.pluginsDirectory)
        let print = catalog.entries.map { entry in
            let manifest = (try? String(contentsOfFile: (entry.directory as NSString).appendingPathComponent("plugin.yaml"), encoding: .utf8)) ?? ""
            return "\(entry.directory)|\(manifest)|\(entry.executablePath ?? "")|\(entry.problems.map(\.description))"
        }.joined(separator: "\n")
        guard print != fingerprint else { return false }
        fingerprint = print
        self.catalog = catalog
        for entry in catalog.entries {
            if entry.isUsable, let manifest = entry.manifest {
                logger.info("plugin loaded", metadata: ["plugin": "\(manifest.name)", "version": "\(manifest.version)",
                                                        "kind": "\(manifest.kind.rawValue)", "path": "\(entry.executablePath ?? "")"])
            }
            for problem in entry.problems {
                logger.error("plugin not usable: \(problem)", metadata: ["plugin": "\(entry.name)"])
            }
        }
        engine.useExternalPlugins(catalog)
        return true
    }

    /// The chat robots' secrets (`paths.secrets`): without the file, reminders reach the inbox
    /// only; a file that is unsafe or broken is logged with every finding and not used.
    private func loadSecrets() {
        secrets = nil
        guard FileManager.default.fileExists(atPath: config.secretsFile) else {
            engine.useNotifiers(secrets: nil, settings: config.notifications)
            return
        }
        do {
            secrets = try SecretsFile.load(path: config.secretsFile)
            engine.useNotifiers(secrets: secrets, settings: config.notifications)
        } catch {
            for finding in error.diagnostics { logger.error("secrets file not used: \(finding)") }
            engine.useNotifiers(secrets: nil, settings: config.notifications)
        }
    }

    /// Logs every robot the org chart in force names that the secrets file does not define
    /// (after a reload has read both).
    func reportUnknownRobots() {
        guard let secrets, let chart = engine.support.orgChart else { return }
        for finding in secrets.unknownRobots(in: chart) { logger.error("chat robot not defined: \(finding)") }
    }

    /// Starts the delivery (recovering rows left running) and watches the folder.
    func start(on loop: EventLoop, stateDirectory: String) throws {
        let delivery = OutboxDelivery(engine: engine, loop: loop, workingDirectory: stateDirectory, logger: logger)
        try delivery.start()
        self.delivery = delivery
        settleTimer = try TimerHandle(loop: loop)
        try watch(on: loop)
    }

    private func watch(on loop: EventLoop) throws {
        for watcher in watchers { watcher.close() }
        watchers.removeAll()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: config.pluginsDirectory, isDirectory: &isDirectory), isDirectory.boolValue else { return }
        let folders = [config.pluginsDirectory] + catalog.entries.map(\.directory)
        for folder in folders {
            let watcher = try FSEventHandle(loop: loop)
            try watcher.start(path: folder) { [unowned self] _, _, _ in self.changed(loop: loop) }
            watchers.append(watcher)
        }
    }

    private func changed(loop: EventLoop) {
        guard let settleTimer else { return }
        settleTimer.stop()
        try? settleTimer.start(after: ConfigurationReloader.settleMilliseconds) { [unowned self] in
            guard self.load() else { return }
            try? self.watch(on: loop)
            self.onChange?()
        }
    }

    /// `status` counts.
    func counts() -> [String: Int] {
        let outbox = (try? engine.outboxCounts()) ?? (pending: -1, failed: -1)
        return ["outbox_pending": outbox.pending, "outbox_failed": outbox.failed, "plugin_failures": engine.pluginFailures,
                "plugins_loaded": catalog.entries.filter(\.isUsable).count, "plugins_broken": catalog.entries.filter { !$0.isUsable }.count]
    }

    /// Closes the watches and stops delivering (rows running stay in the outbox; idempotent).
    func close() {
        delivery?.close()
        delivery = nil
        for watcher in watchers { watcher.close() }
        watchers.removeAll()
        settleTimer?.close()
        settleTimer = nil
    }

    /// root and the members of the admin group: who gets a reminder when a plugin step fails for good.
    static func admins(group: String?) -> [String] {
        ["root"] + (group.flatMap(Authorization.group(named:))?.members ?? [])
    }
}

@available(*, unavailable)
extension PluginRunner: Sendable {}

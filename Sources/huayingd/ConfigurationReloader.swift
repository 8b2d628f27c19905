import ControlProtocol
import EventLoop
import Foundation
import Logging
import WorkflowEngine
import WorkflowModel

/// Hot reload: watches the workflows folder, the calendars folder and the org chart's folder,
/// waits for editors' write-rename bursts to settle, then reloads what changed. SIGHUP and
/// `huaying reload` reload at once.
///
/// A broken file never replaces the last good one: a workflow file's findings go to the log and
/// to `huaying workflows`; a broken org chart or calendar keeps the previous chart and
/// calendars in force.
///
/// - Important: Loop thread only.
final class ConfigurationReloader {
    /// How long the files must be quiet before a reload (editors write, rename, chmod).
    static let settleMilliseconds: UInt64 = 300

    private let config: HuayingConfig
    private let engine: WorkflowEngine
    private let logger: Logger
    private var watchers: [FSEventHandle] = []
    private var settleTimer: TimerHandle?
    private var supportFingerprint: String
    private(set) var last: ReloadResult?
    /// Runs first in every reload (the daemon reads the plugins folder, so workflow files are
    /// checked against the plugins as they are now).
    var beforeReload: (() -> Void)?
    /// Runs last in every reload, once the org chart in force is the one just read (the daemon
    /// checks the chat robots it names against the secrets file).
    var afterReload: (() -> Void)?

    init(config: HuayingConfig, engine: WorkflowEngine, logger: Logger) {
        self.config = config
        self.engine = engine
        self.logger = logger
        supportFingerprint = Self.fingerprint(config)
    }

    /// Starts watching (folders that do not exist are skipped with a warning).
    func start(on loop: EventLoop) throws {
        settleTimer = try TimerHandle(loop: loop)
        let staffFolder = (config.staffFile as NSString).deletingLastPathComponent
        for folder in Set([config.workflowsDirectory, config.calendarsDirectory, staffFolder]) {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
                logger.warning("not watching a folder that does not exist", metadata: ["folder": "\(folder)"])
                continue
            }
            let watcher = try FSEventHandle(loop: loop)
            try watcher.start(path: folder) { [unowned self] _, _, error in
                if let error {
                    self.logger.warning("file watch error", metadata: ["folder": "\(folder)", "error": "\(error)"])
                }
                self.scheduleReload()
            }
            watchers.append(watcher)
        }
    }

    /// Closes the watches and the timer (idempotent).
    func close() {
        for watcher in watchers { watcher.close() }
        watchers.removeAll()
        settleTimer?.close()
        settleTimer = nil
    }

    private func scheduleReload() {
        guard let settleTimer else { return }
        settleTimer.stop()
        try? settleTimer.start(after: Self.settleMilliseconds) { [unowned self] in
            _ = self.reload(trigger: "file change")
        }
    }

    /// Reloads the org chart and calendars when their files changed, then the workflows.
    /// - Parameter pluginsRead: the plugins folder was just read (its change is the trigger).
    @discardableResult
    func reload(trigger: String, pluginsRead: Bool = false) -> ReloadResult {
        if !pluginsRead { beforeReload?() }
        defer { afterReload?() }
        var supportErrors: [String] = []
        let fingerprint = Self.fingerprint(config)
        if fingerprint != supportFingerprint {
            let files = SupportFiles(config: config)
            let errors = files.diagnostics.filter { $0.severity == .error }
            if errors.isEmpty, let chart = files.orgChart {
                do {
                    var support = EngineSupport(calendars: files.calendars, orgChart: chart, timeZone: config.timeZone)
                    support.settings = config.settings
                    try engine.replaceSupport(support)
                    supportFingerprint = fingerprint
                    logger.notice("org chart and calendars reloaded; pending due times derived again")
                } catch {
                    supportErrors.append("cannot apply the new org chart or calendars: \(error)")
                }
            } else {
                supportErrors = errors.map(\.description)
                if files.orgChart == nil && errors.isEmpty { supportErrors.append("\(config.staffFile): no usable org chart") }
                for message in supportErrors { logger.error("not reloaded, previous version stays in force: \(message)") }
            }
        }
        let report = engine.loadDefinitions(directory: config.workflowsDirectory)
        for path in report.failed {
            for finding in engine.loadErrors[path] ?? [] { logger.error("workflow file not loaded: \(finding)") }
        }
        if !report.loaded.isEmpty || !report.removed.isEmpty || !report.failed.isEmpty {
            logger.notice("workflows reloaded", metadata: [
                "trigger": "\(trigger)", "loaded": "\(report.loaded.joined(separator: ","))",
                "failed": "\(report.failed.count)", "removed": "\(report.removed.joined(separator: ","))",
            ])
        }
        let result = ReloadResult(at: DaemonTime.iso8601(Date(), zone: config.timeZone), trigger: trigger,
                                  loaded: report.loaded, failed: report.failed, removed: report.removed,
                                  unchanged: report.unchanged, supportErrors: supportErrors)
        last = result
        return result
    }

    /// The `workflows` view.
    func workflows() throws -> WorkflowsResult {
        let inUse = try engine.versionsInUse()
        var infos = engine.definitions.map { definition in
            WorkflowInfo(id: definition.id, title: definition.title, file: definition.file,
                         currentVersion: definition.version, versionsInUse: inUse[definition.id] ?? [:])
        }
        for (workflow, versions) in inUse where !infos.contains(where: { $0.id == workflow }) {
            infos.append(WorkflowInfo(id: workflow, title: "(file removed)", file: "", currentVersion: nil, versionsInUse: versions))
        }
        let errors = engine.loadErrors.keys.sorted().map { path in
            FileErrors(file: path, messages: engine.loadErrors[path]!.map(\.description))
        }
        return WorkflowsResult(workflows: infos.sorted { $0.id < $1.id }, loadErrors: errors)
    }

    /// The org chart and calendar files' names and the sha256 of each one's whole content (as
    /// for workflow versions): any edit changes it, even one that keeps the size. A file that
    /// cannot be read counts as empty (its loader reports why).
    static func fingerprint(_ config: HuayingConfig) -> String {
        var paths = [config.staffFile]
        let calendars = (try? FileManager.default.contentsOfDirectory(atPath: config.calendarsDirectory)) ?? []
        paths += calendars.sorted().map { (config.calendarsDirectory as NSString).appendingPathComponent($0) }
        return paths.map { path in
            "\(path):\(sha256Hex(FileManager.default.contents(atPath: path) ?? Data()))"
        }.joined(separator: "|")
    }

}

@available(*, unavailable)
extension ConfigurationReloader: Sendable {}

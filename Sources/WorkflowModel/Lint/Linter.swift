import Foundation
import Yams

/// What `huaying lint` checks: workflow files, the org chart and the calendars.
public struct LintReport: Sendable {
    /// Every file looked at, in order.
    public var files: [String]
    /// Every finding, by file and position.
    public var diagnostics: [Diagnostic]

    public var errorCount: Int { diagnostics.filter { $0.severity == .error }.count }
    public var warningCount: Int { diagnostics.filter { $0.severity == .warning }.count }
}

/// The org chart and calendars of a configuration, loaded once with their findings.
public struct SupportFiles: Sendable {
    public var calendars: CalendarLibrary
    /// Nil when the chart has errors (role references are then not checked).
    public var orgChart: OrgChart?
    public var diagnostics: [Diagnostic]
    public var files: [String]
    /// The external plugins in `paths.plugins` (their problems are not in `diagnostics`: a
    /// broken plugin does not stop the org chart and calendars from loading).
    public var plugins: PluginCatalog

    /// Loads `paths.staff` and every calendar in `paths.calendars`.
    public init(config: HuayingConfig) {
        var diagnostics: [Diagnostic] = []
        let calendars = CalendarLibrary.load(directory: config.calendarsDirectory)
        diagnostics += calendars.diagnostics
        self.calendars = calendars.library
        var files = YAMLFiles.list(in: config.calendarsDirectory, diagnostics: &diagnostics)
        files.append(config.staffFile)
        self.files = files
        do {
            let file = try YAMLFile(path: config.staffFile)
            let result = OrgChartFile.check(file)
            orgChart = result.chart
            diagnostics += result.diagnostics
        } catch {
            orgChart = nil
            diagnostics.append(error)
        }
        self.diagnostics = diagnostics
        settings = config.settings
        plugins = PluginCatalog.load(directory: config.pluginsDirectory)
    }

    /// The configuration's `settings.<name>` amounts.
    public var settings: [String: Int] = [:]

    public var checker: WorkflowChecker {
        var checker = WorkflowChecker(calendars: calendars, orgChart: orgChart, plugins: plugins.registry())
        checker.settings = settings
        return checker
    }
}

public enum Linter {
    /// Lints files and folders (the `*.yaml`/`*.yml` files directly inside), plus the
    /// configuration's org chart and calendars. A file is taken as an org chart when its top
    /// level has `units:`, as a calendar when it has `years:`, else as a workflow.
    public static func lint(paths: [String], config: HuayingConfig) -> LintReport {
        let support = SupportFiles(config: config)
        var diagnostics = support.diagnostics + support.plugins.diagnostics
        var files = support.files + support.plugins.entries.map { ($0.directory as NSString).appendingPathComponent("plugin.yaml") }
        let alreadyChecked = Set(support.files.map(standardized))
        var workflowFiles: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                diagnostics.append(Diagnostic(.error, file: path, "no such file or folder; expected a workflow file or a folder of them"))
                continue
            }
            if isDirectory.boolValue {
                workflowFiles += YAMLFiles.list(in: path, diagnostics: &diagnostics)
            } else {
                workflowFiles.append(path)
            }
        }
        // Compose every file first: the workflow ids they hold (and those in the configured
        // workflows folder) are what a `then:` may start.
        var composed: [YAMLFile] = []
        for path in workflowFiles where !alreadyChecked.contains(standardized(path)) {
            files.append(path)
            do { composed.append(try YAMLFile(path: path)) } catch { diagnostics.append(error) }
        }
        var known = Set(composed.compactMap { $0.root?["workflow"]?.string })
        known.formUnion(WorkflowLocator.ids(in: config.workflowsDirectory))
        var checker = support.checker
        checker.knownWorkflows = known
        var ids: [String: SourceLocation] = [:]
        for file in composed {
            let keys = Set(file.root?.mapping?.keys.compactMap { $0.scalar?.string } ?? [])
            if keys.contains("units") && !keys.contains("workflow") {
                diagnostics += OrgChartFile.check(file).diagnostics
            } else if keys.contains("years") && !keys.contains("workflow") {
                diagnostics += CalendarFile.check(file).diagnostics
            } else {
                let result = checker.check(file)
                diagnostics += result.diagnostics
                if let definition = result.definition {
                    if definition.trigger != nil, let chart = support.orgChart, let calendar = support.calendars[definition.calendar.value] {
                        diagnostics += TriggerSchedule.conflicts(definition, chart: chart, calendar: calendar, timeZone: config.timeZone, now: Date())
                    }
                    if let first = ids[definition.id.value] {
                        diagnostics.append(.error(definition.id.location, "workflow id '\(definition.id.value)' is also used by \(first); expected one file per workflow id"))
                    } else {
                        ids[definition.id.value] = definition.id.location
                    }
                }
            }
        }
        return LintReport(files: files, diagnostics: diagnostics)
    }

    static func standardized(_ path: String) -> String {
        HuayingConfig.absolute(path, relativeTo: FileManager.default.currentDirectoryPath)
    }
}

/// Finding a workflow by path or id.
public enum WorkflowLocator {
    /// `reference` when it names an existing file, else the file in `directory` whose
    /// `workflow:` id is `reference` (checking `<id>.yaml` first).
    /// - Returns: nil when nothing matches.
    public static func path(for reference: String, in directory: String) -> String? {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: reference, isDirectory: &isDirectory), !isDirectory.boolValue {
            return reference
        }
        var ignored: [Diagnostic] = []
        let files = YAMLFiles.list(in: directory, diagnostics: &ignored)
        let preferred = files.filter { ($0 as NSString).lastPathComponent.hasPrefix(reference + ".") }
        for path in preferred + files {
            guard let file = try? YAMLFile(path: path), let id = file.root?["workflow"]?.string else { continue }
            if id == reference { return path }
        }
        return nil
    }

    /// The workflow ids found in a folder (none when it does not exist).
    public static func ids(in directory: String) -> [String] {
        var ignored: [Diagnostic] = []
        return YAMLFiles.list(in: directory, diagnostics: &ignored).compactMap { path in
            (try? YAMLFile(path: path))?.root?["workflow"]?.string
        }
    }
}

import ArgumentParser
import ControlProtocol

/// `huaying workflows`: what the daemon has loaded, which versions running instances use, and
/// which files did not load (with their `file:line:col` findings).
struct Workflows: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List loaded workflows, versions in use, and files that failed to load.")

    @OptionGroup var globals: GlobalOptions

    @Flag(name: .long, help: "Print JSON for scripts.")
    var json = false

    func run() throws {
        let result = try EngineOutput.call("workflows", globals: globals, as: WorkflowsResult.self)
        if json {
            try printJSON(result)
            return
        }
        var rows = [["WORKFLOW", "TITLE", "VERSION", "IN USE", "FILE"]]
        for workflow in result.workflows {
            let inUse = workflow.versionsInUse.keys.sorted()
                .map { "\(EngineOutput.shortVersion($0))×\(workflow.versionsInUse[$0]!)" }.joined(separator: " ")
            rows.append([workflow.id, workflow.title, workflow.currentVersion.map(EngineOutput.shortVersion) ?? "(removed)",
                         inUse.isEmpty ? "-" : inUse, workflow.file])
        }
        print(TextFormatting.table(rows))
        if !result.loadErrors.isEmpty {
            print("\nfiles not loaded (the last good version stays in force):")
            for file in result.loadErrors {
                for message in file.messages { print("  \(message)") }
            }
        }
    }
}

/// `huaying reload`: re-read workflows, org chart and calendars now (as SIGHUP does).
struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reload workflow files, the org chart and calendars now.")

    @OptionGroup var globals: GlobalOptions

    @Flag(name: .long, help: "Print JSON for scripts.")
    var json = false

    func run() throws {
        let result = try EngineOutput.call("reload", globals: globals, as: ReloadResult.self)
        if json {
            try printJSON(result)
            return
        }
        print("reloaded: \(result.loaded.count) loaded, \(result.unchanged) unchanged, \(result.failed.count) failed, \(result.removed.count) removed")
        if !result.loaded.isEmpty { print("  loaded:  \(result.loaded.joined(separator: ", "))") }
        if !result.removed.isEmpty { print("  removed: \(result.removed.joined(separator: ", ")) (running instances keep their version)") }
        for file in result.failed { print("  failed:  \(file) (see `huaying workflows`)") }
        for message in result.supportErrors { print("  not reloaded: \(message)") }
        if !result.failed.isEmpty || !result.supportErrors.isEmpty { throw ExitCode(ExitStatus.failed) }
    }
}

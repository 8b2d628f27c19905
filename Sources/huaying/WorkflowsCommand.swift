import ArgumentParser
import ControlProtocol

/// `huaying workflows`: what the daemon has loaded, which versions running instances use, and
/// which files did not load (with their `file:line:col` findings).
struct Workflows: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Message.abstractWorkflows())

    @OptionGroup var globals: GlobalOptions

    @Flag(name: .long, help: "Print JSON for scripts.")
    var json = false

    @Flag(name: .long, help: "Exit 1 when a workflow file failed to load (for deploy scripts).")
    var check = false

    func run() throws {
        let result = try EngineOutput.call("workflows", globals: globals, as: WorkflowsResult.self)
        if json {
            try printJSON(result)
        } else {
            render(result)
        }
        if check, !result.loadErrors.isEmpty { throw ExitCode(ExitStatus.failed) }
    }

    private func render(_ result: WorkflowsResult) {
        var rows = [[Message.headerWorkflow(), Message.headerTitle(), Message.headerVersion(), Message.headerInUse(), Message.headerFile()]]
        for workflow in result.workflows {
            let inUse = workflow.versionsInUse.keys.sorted()
                .map { "\(EngineOutput.shortVersion($0))×\(workflow.versionsInUse[$0]!)" }.joined(separator: " ")
            rows.append([workflow.id, workflow.title, workflow.currentVersion.map(EngineOutput.shortVersion) ?? Message.workflowRemoved(),
                         inUse.isEmpty ? "-" : inUse, workflow.file])
        }
        print(TextFormatting.table(rows))
        if !result.loadErrors.isEmpty {
            print("\n" + Message.workflowsNotLoaded())
            for file in result.loadErrors {
                for message in file.messages { print("  \(message)") }
            }
        }
    }
}

/// `huaying reload`: re-read workflows, org chart and calendars now (as SIGHUP does).
struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Message.abstractReload())

    @OptionGroup var globals: GlobalOptions

    @Flag(name: .long, help: "Print JSON for scripts.")
    var json = false

    func run() throws {
        let result = try EngineOutput.call("reload", globals: globals, as: ReloadResult.self)
        if json {
            try printJSON(result)
            return
        }
        print(Message.reloadSummary(result.loaded.count, result.unchanged, result.failed.count, result.removed.count))
        if !result.loaded.isEmpty { print(Message.reloadLoaded(result.loaded.joined(separator: ", "))) }
        if !result.removed.isEmpty { print(Message.reloadRemoved(result.removed.joined(separator: ", "))) }
        for file in result.failed { print(Message.reloadFailed(file)) }
        for message in result.supportErrors { print(Message.reloadNotReloaded(message)) }
        if !result.failed.isEmpty || !result.supportErrors.isEmpty { throw ExitCode(ExitStatus.failed) }
    }
}

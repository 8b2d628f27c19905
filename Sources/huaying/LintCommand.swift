import ArgumentParser
import ControlProtocol
import Foundation
import WorkflowModel

/// `huaying lint [PATH...]`: checks workflow files, the org chart and the calendars offline.
struct Lint: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Message.abstractLint(),
        discussion: """
            Prints each problem as `file:line:col: error|warning: message`. PATH is a workflow \
            file or a folder of them (default: the configured workflows folder); the org chart \
            (paths.staff) and the calendars (paths.calendars) are always checked too. \
            Exits 0 when there are no errors (warnings allowed), 1 when there are.
            """
    )

    @OptionGroup var globals: GlobalOptions

    @Flag(name: .long, help: "Print the findings as JSON.")
    var json = false

    @Argument(help: ArgumentHelp("Workflow files or folders (default: the configured workflows folder).", valueName: "path"))
    var paths: [String] = []

    struct Output: Encodable {
        struct Finding: Encodable {
            var file: String
            @NullEncoded var line: Int?
            @NullEncoded var column: Int?
            var severity: String
            var message: String
        }

        var files: [String]
        var errors: Int
        var warnings: Int
        var diagnostics: [Finding]
    }

    func run() throws {
        let config = try globals.loadConfig()
        let report = Linter.lint(paths: paths.isEmpty ? [config.workflowsDirectory] : paths, config: config)
        if json {
            try printJSON(Output(
                files: report.files.map(OfflineOutput.shortPath),
                errors: report.errorCount,
                warnings: report.warningCount,
                diagnostics: report.diagnostics.map {
                    .init(file: OfflineOutput.shortPath($0.file), line: $0.line, column: $0.column, severity: $0.severity.rawValue, message: $0.message)
                }
            ))
        } else {
            // One write, so the summary on stderr cannot land in the middle of the findings; a
            // finding quotes what the file says ("\e[2J" is valid YAML), so it is made terminal-safe.
            let text = report.diagnostics.map { OfflineOutput.text(of: $0) + "\n" }.joined()
            FileHandle.standardOutput.write(Data(ControlCharacters.terminalSafe(text).utf8))
            // English counts its nouns ("1 file", "2 errors"); Chinese takes the bare numbers.
            let english = Language.current == .en
            let files = english ? count(report.files.count, "file") : "\(report.files.count)"
            if report.diagnostics.isEmpty {
                printError(Message.lintClean(files))
            } else {
                printError(Message.lintFound(files, english ? count(report.errorCount, "error") : "\(report.errorCount)",
                                             english ? count(report.warningCount, "warning") : "\(report.warningCount)"))
            }
        }
        if report.errorCount > 0 { throw ExitCode(ExitStatus.failed) }
    }

    private func count(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }

}

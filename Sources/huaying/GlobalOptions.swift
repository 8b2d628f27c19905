import ArgumentParser
import ControlProtocol
import Foundation
import WorkflowModel

/// Options every subcommand takes: where the config and the socket are, and whom to act as.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The config file (default: $HUAYING_CONFIG, ./etc/huaying.yaml, /etc/huaying/huaying.yaml).", valueName: "path"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("The daemon's control socket (default: from the config).", valueName: "path"))
    var socket: String?

    @Option(name: .customLong("as"), help: ArgumentHelp("Act as another user (admins only).", valueName: "user"))
    var actAs: String?

    /// The config file's path after defaults.
    var configPath: String { config ?? HuayingConfig.defaultPath() }

    /// Loads the config, printing every problem to stderr and exiting 2 when it is broken.
    func loadConfig() throws -> HuayingConfig {
        do {
            return try HuayingConfig.load(path: configPath)
        } catch {
            for diagnostic in error.diagnostics { printError(diagnostic.description) }
            throw ExitCode(ExitStatus.usage)
        }
    }

    /// The socket path: `--socket`, else the config's.
    func socketPath() throws -> String {
        if let socket { return socket }
        return try loadConfig().socketPath
    }
}

/// Exit codes shared by every command (listed in `huaying --help`).
enum ExitStatus {
    static let ok: Int32 = 0
    /// A check failed: lint found errors, `calendar is-workday` on a day off.
    static let failed: Int32 = 1
    /// Bad usage or a broken config file.
    static let usage: Int32 = 2
    /// The daemon could not be reached.
    static let unavailable: Int32 = 3
    /// `calendar is-workday`: the answer is provisional (the year has no official schedule in
    /// the calendar file; computed from the statutory days off, make-up workdays unknown).
    static let provisional: Int32 = 3
    /// The daemon refused the request.
    static let refused: Int32 = 4
}

/// Writes one line to standard error, control characters as visible escapes (the line may
/// quote what the daemon or a file said).
func printError(_ line: String) {
    FileHandle.standardError.write(Data((ControlCharacters.terminalSafe(line) + "\n").utf8))
}

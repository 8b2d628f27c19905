import ArgumentParser
import ControlProtocol
import Foundation

/// `huaying backup FILE`: asks the daemon for a consistent copy of its database, written
/// while it keeps running, and waits until the copy's ledger is verified.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: Message.abstractBackup(),
        discussion: """
            The daemon writes FILE itself (with SQLite's online backup, a slice of pages per loop \
            turn, so it keeps answering meanwhile), then checks the copy's hash chain. FILE must \
            not exist, and its folder must be one you could write to yourself (yours, or /tmp); \
            the file gets mode 0640 and is yours when the daemon runs as root. Admins only. \
            Prints "backup written: FILE …" and exits 0, or names what failed and exits 1. \
            To restore, see docs/operations.md, "Backup and restore".
            """
    )

    @OptionGroup var globals: GlobalOptions

    @Argument(help: ArgumentHelp("The new backup file.", valueName: "file"))
    var file: String

    @Flag(name: .long, help: "Print the finished backup's status as JSON.")
    var json = false

    func run() throws {
        let path = URL(fileURLWithPath: file, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            .standardizedFileURL.path
        var status = try EngineOutput.call("backup", arguments: ["path": .string(path)], globals: globals, as: BackupStatus.self)
        // The daemon copies a slice per loop turn; ask how far it got until it is done.
        while !status.isFinished {
            usleep(20_000)
            status = try EngineOutput.call("backup", arguments: ["job": .number(Double(status.job))], globals: globals, as: BackupStatus.self)
        }
        if json {
            try printJSON(status)
        } else if status.state == "done" {
            let size = status.bytes.map { " (\($0 / 1024) KiB, \(status.pagesTotal) pages)" } ?? ""
            print(Message.backupWritten(status.path, size))
            print(Message.backupVerified(status.rowsVerified, status.ledgerHeadSeq ?? 0))
        } else {
            printError(Message.errorCommand("backup", "\(status.path): \(status.error ?? Message.backupNoReason())"))
        }
        if status.state != "done" { throw ExitCode(ExitStatus.failed) }
    }
}

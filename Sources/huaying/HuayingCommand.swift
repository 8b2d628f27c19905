import ArgumentParser
import ControlProtocol
import Foundation

@main
struct Huaying: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "huaying",
        abstract: Message.abstractRoot(),
        discussion: Message.discussionRoot(),
        version: ReleaseVersion.current,
        subcommands: [
            Status.self, Lint.self, Plan.self, CalendarCommand.self,
            Start.self, Instances.self, Show.self, Update.self, Cancel.self,
            Inbox.self, Ack.self, Away.self, Nudge.self, Agenda.self, Whoami.self, Report.self, Board.self, Audit.self,
            ClockCommand.self, Workflows.self, Reload.self, BackupCommand.self, Plugins.self, Retry.self,
        ]
    )

    /// Declared here too so `huaying --config X status` works as well as `huaying status --config X`:
    /// ArgumentParser hands a parent's option group to children that declare the same group.
    @OptionGroup var globals: GlobalOptions

    /// Runs the command, mapping ArgumentParser's usage errors (EX_USAGE, 64) to our documented 2.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
                Foundation.exit(0)
            }
            if !message.isEmpty { printError(message) }
            Foundation.exit(code == .validationFailure ? ExitStatus.usage : code.rawValue)
        }
    }
}

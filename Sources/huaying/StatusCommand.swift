import ArgumentParser
import ControlProtocol
import Foundation

/// `huaying status`: is the daemon up, since when, on which clock and state.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Message.abstractStatus(),
        discussion: "Exits 1 (after printing) when the daemon has lost its state database (see docs/operations.md).")

    @OptionGroup var globals: GlobalOptions

    @Flag(name: .long, help: "Print JSON for scripts.")
    var json = false

    func run() throws {
        let result = try callDaemon("status", globals: globals)
        let status: StatusResult
        do {
            status = try ControlCoding.convert(result, to: StatusResult.self)
        } catch {
            printError(Message.errorUnexpectedAnswer("status", error))
            throw ExitCode(ExitStatus.unavailable)
        }
        Self.warnOnVersionMismatch(daemon: status.daemonVersion)
        if json {
            try printJSON(status)
            if status.stateError != nil { throw ExitCode(ExitStatus.failed) }
            return
        }
        // Every time in the configured zone (the daemon's), whatever offset it was written with.
        let zone = TimeZone(identifier: status.timeZone) ?? TimeZone(identifier: "UTC")!
        if let stateError = status.stateError { print(Message.statusCritical(ControlCharacters.terminalSafe(stateError))) }
        print(Message.statusDaemon(status.daemonVersion, status.protocolVersion, status.pid))
        print(Message.statusUpSince(EngineOutput.time(status.startedAt, zone: zone), TextFormatting.duration(seconds: Int(status.uptimeSeconds))))
        print(Message.statusClock(ClockCommand.clockMode(status.clockMode), EngineOutput.time(status.now, zone: zone), status.timeZone))
        print(Message.statusState(status.statePath))
        print(Message.statusSocket(status.socketPath))
        print(Message.statusConfig(status.configPath))
        if let reload = status.lastReload {
            print(Message.statusReload(EngineOutput.time(reload.at, zone: zone), reload.trigger, reload.loaded.count, reload.unchanged,
                                       reload.failed.count, reload.removed.count))
            for message in reload.supportErrors { print(Message.statusNotReloaded(ControlCharacters.terminalSafe(message))) }
        }
        if let error = status.lastError { print(Message.statusLastError(ControlCharacters.terminalSafe(error))) }
        let width = status.counts.keys.map(\.count).max() ?? 0
        print(Message.statusCounts())
        for key in status.counts.keys.sorted() {
            print("  \(key.padding(toLength: width, withPad: " ", startingAt: 0))  \(status.counts[key]!)")
        }
        if status.stateError != nil { throw ExitCode(ExitStatus.failed) }

    }

    /// A warning on stderr when the daemon runs another release than this CLI.
    static func warnOnVersionMismatch(daemon: String) {
        if daemon != ReleaseVersion.current { printError(Message.versionMismatch(ReleaseVersion.current, daemon)) }
    }
}

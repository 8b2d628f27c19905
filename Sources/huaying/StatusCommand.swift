import ArgumentParser
import ControlProtocol
import Foundation

/// `huaying status`: is the daemon up, since when, on which clock and state.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the daemon's version, uptime, clock, state path and counters.",
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
            printError("huaying: status: unexpected answer from the daemon: \(error)")
            throw ExitCode(ExitStatus.unavailable)
        }
        if json {
            try printJSON(status)
            if status.stateError != nil { throw ExitCode(ExitStatus.failed) }
            return
        }
        if let stateError = status.stateError { print("CRITICAL  \(TextFormatting.terminalSafe(stateError))") }
        print("huayingd \(status.daemonVersion) (protocol \(status.protocolVersion)), pid \(status.pid)")
        print("up since  \(status.startedAt) (\(Self.duration(status.uptimeSeconds)))")
        print("clock     \(status.clockMode), now \(status.now) (\(status.timeZone))")
        print("state     \(status.statePath)")
        print("socket    \(status.socketPath)")
        print("config    \(status.configPath)")
        if let reload = status.lastReload {
            print("reload    \(reload.at) (\(reload.trigger)): \(reload.loaded.count) loaded, \(reload.unchanged) unchanged, \(reload.failed.count) failed, \(reload.removed.count) removed")
            for message in reload.supportErrors { print("          not reloaded: \(TextFormatting.terminalSafe(message))") }
        }
        if let error = status.lastError { print("last error  \(TextFormatting.terminalSafe(error))") }
        let width = status.counts.keys.map(\.count).max() ?? 0
        print("counts")
        for key in status.counts.keys.sorted() {
            print("  \(key.padding(toLength: width, withPad: " ", startingAt: 0))  \(status.counts[key]!)")
        }
        if status.stateError != nil { throw ExitCode(ExitStatus.failed) }

    }

    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds)
        let days = total / 86_400, hours = total % 86_400 / 3600, minutes = total % 3600 / 60, secs = total % 60
        if days > 0 { return "\(days)d \(hours)h \(minutes)m" }
        if hours > 0 { return "\(hours)h \(minutes)m" }
        if minutes > 0 { return "\(minutes)m \(secs)s" }
        return "\(secs)s"
    }
}

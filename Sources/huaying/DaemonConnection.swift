import ArgumentParser
import ControlProtocol
import Foundation

/// Sends one request to the daemon and returns its result, turning every failure into a
/// message on stderr and a documented exit code.
func callDaemon(_ command: String, arguments: [String: JSONValue] = [:], globals: GlobalOptions) throws -> JSONValue {
    let path = try globals.socketPath()
    let response: ControlResponse
    do {
        let client = try ControlClient(socketPath: path)
        response = try client.call(ControlRequest(command: command, arguments: arguments, actAs: globals.actAs))
    } catch let error as ControlClient.ConnectionError {
        printError("huaying: \(error)")
        throw ExitCode(ExitStatus.unavailable)
    } catch {
        printError("huaying: cannot understand the daemon's answer: \(error)")
        throw ExitCode(ExitStatus.unavailable)
    }
    guard response.ok, let result = response.result else {
        let error = response.error ?? ControlError(.unknown, "the daemon refused without a reason")
        printError("huaying: \(command): \(error.message) [\(error.code)]")
        throw ExitCode(ExitStatus.refused)
    }
    return result
}

/// Prints a value as pretty, key-sorted JSON (the `--json` output of every command).
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    // Swift.print, not the terminal-safe one: JSON escapes control characters itself.
    Swift.print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

import ArgumentParser
import ControlProtocol
import Foundation

/// Sends one request to the daemon and returns its result, turning every failure into a
/// message on stderr and a documented exit code.
func callDaemon(_ command: String, arguments: [String: JSONValue] = [:], globals: GlobalOptions) throws -> JSONValue {
    switch try requestDaemon(command, arguments: arguments, globals: globals) {
    case let .success(result):
        return result
    case let .failure(error):
        printError(refusalLine(command: command, error))
        throw ExitCode(ExitStatus.refused)
    }
}

/// Sends one request and returns the daemon's result or its refusal; a daemon that cannot be
/// reached or understood is reported on stderr and exits 3.
func requestDaemon(_ command: String, arguments: [String: JSONValue] = [:], globals: GlobalOptions) throws -> Result<JSONValue, ControlError> {
    let path = try globals.socketPath()
    let response: ControlResponse
    do {
        let client = try ControlClient(socketPath: path)
        response = try client.call(ControlRequest(command: command, arguments: arguments, actAs: globals.actAs))
    } catch let error as ControlClient.ConnectionError {
        printError(Message.errorUnreachable(error))
        throw ExitCode(ExitStatus.unavailable)
    } catch {
        printError(Message.errorBadAnswer(error))
        throw ExitCode(ExitStatus.unavailable)
    }
    guard response.ok, let result = response.result else {
        return .failure(response.error ?? ControlError(.unknown, "the daemon refused without a reason"))
    }
    return .success(result)
}

/// A refusal for people: in English the daemon's message as it is; in Chinese the code's
/// meaning from the catalogue, then the daemon's message (it names the values); a code this
/// CLI does not know shows the daemon's message alone.
func refusalLine(command: String, _ error: ControlError) -> String {
    Message.errorCommand(command, refusalReason(error))
}

/// A refusal without the command: `没有这个实例：no instance 99 [unknown_instance]`.
func refusalReason(_ error: ControlError) -> String {
    guard let meaning = Catalogue.refusal(error.code) else { return Message.refusalReason(error.message, error.code) }
    return Message.refusalReasonTranslated(meaning(), error.message, error.code)
}

/// Prints a value as pretty, key-sorted JSON (the `--json` output of every command).
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    // Swift.print, not the terminal-safe one: JSON escapes control characters itself.
    Swift.print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

import Foundation

/// The control socket speaks newline-delimited JSON: one request object per line from the
/// client, one response object per line from the daemon, in order.
public enum ControlProtocol {
    /// Bumped when a request or response changes incompatibly. A daemon answers a request of
    /// another version with `unsupported_version`.
    public static let version = 1
    /// The longest request line the daemon reads (1 MiB). A longer one is answered with
    /// `request_too_large` and the connection is closed.
    public static let maxRequestBytes = 1 << 20
}

/// One request line.
public struct ControlRequest: Codable, Equatable, Sendable {
    public var version: Int
    /// The command name, e.g. `status`.
    public var command: String
    /// Command arguments; each command documents its keys.
    public var arguments: [String: JSONValue]
    /// The user to act as (admins only; checked by the daemon).
    public var actAs: String?

    public init(command: String, arguments: [String: JSONValue] = [:], actAs: String? = nil, version: Int = ControlProtocol.version) {
        self.version = version
        self.command = command
        self.arguments = arguments
        self.actAs = actAs
    }

    enum CodingKeys: String, CodingKey {
        case version, command, arguments
        case actAs = "act_as"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.decode(Int.self, forKey: .version)
        command = try container.decode(String.self, forKey: .command)
        arguments = try container.decodeIfPresent([String: JSONValue].self, forKey: .arguments) ?? [:]
        actAs = try container.decodeIfPresent(String.self, forKey: .actAs)
    }
}

/// Why the daemon refused a request. `code` is stable for scripts; `message` is for people.
public struct ControlError: Codable, Equatable, Sendable, Error, CustomStringConvertible {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(message) [\(code)]" }

    public static func malformed(_ detail: String) -> ControlError {
        ControlError(.malformedRequest, "malformed request: \(detail); expected one JSON object per line with \"version\" and \"command\"")
    }

    public static let tooLarge = ControlError(.requestTooLarge, "request longer than \(ControlProtocol.maxRequestBytes) bytes; the connection is closed")

    public static func unsupportedVersion(_ version: Int) -> ControlError {
        ControlError(.unsupportedVersion, "protocol version \(version) is not supported; this daemon speaks version \(ControlProtocol.version)")
    }

    public static func unknownCommand(_ command: String, known: [String]) -> ControlError {
        ControlError(.unknownCommand, "unknown command '\(command)'; known commands: \(known.joined(separator: ", "))")
    }
}

/// One response line: either `result` (ok) or `error`.
public struct ControlResponse: Codable, Equatable, Sendable {
    public var version: Int
    public var ok: Bool
    public var result: JSONValue?
    public var error: ControlError?

    public static func success(_ result: JSONValue) -> ControlResponse {
        ControlResponse(version: ControlProtocol.version, ok: true, result: result, error: nil)
    }

    public static func failure(_ error: ControlError) -> ControlResponse {
        ControlResponse(version: ControlProtocol.version, ok: false, result: nil, error: error)
    }
}

/// The result of `status`.
public struct StatusResult: Codable, Equatable, Sendable {
    public var daemonVersion: String
    public var protocolVersion: Int
    public var pid: Int32
    /// When the daemon started (ISO 8601 with the configured zone's offset).
    public var startedAt: String
    public var uptimeSeconds: Double
    /// `real` or `simulated`.
    public var clockMode: String
    /// The clock's current instant (ISO 8601 with the configured zone's offset).
    public var now: String
    public var timeZone: String
    public var statePath: String
    public var socketPath: String
    public var configPath: String
    /// Counters, by name: requests served, requests refused, open connections, daemon runs recorded.
    public var counts: [String: Int]
    /// The last reload of workflows, org chart and calendars (at start, SIGHUP, request or file change).
    @NullEncoded public var lastReload: ReloadResult?
    /// The last error the daemon logged about its own work (a rolled-back batch), if any.
    @NullEncoded public var lastError: String?
    /// Set when the daemon can no longer record anything (its database was deleted or replaced
    /// while it ran): what happened and what to do. Absent while the state is sound.
    @NullEncoded public var stateError: String?

    public init(daemonVersion: String, protocolVersion: Int = ControlProtocol.version, pid: Int32, startedAt: String,
                uptimeSeconds: Double, clockMode: String, now: String, timeZone: String, statePath: String,
                socketPath: String, configPath: String, counts: [String: Int], lastReload: ReloadResult? = nil, lastError: String? = nil,
                stateError: String? = nil) {
        self.stateError = stateError
        self.daemonVersion = daemonVersion
        self.protocolVersion = protocolVersion
        self.pid = pid
        self.startedAt = startedAt
        self.uptimeSeconds = uptimeSeconds
        self.clockMode = clockMode
        self.now = now
        self.timeZone = timeZone
        self.statePath = statePath
        self.socketPath = socketPath
        self.configPath = configPath
        self.counts = counts
        self.lastReload = lastReload
        self.lastError = lastError
    }

    enum CodingKeys: String, CodingKey {
        case daemonVersion = "daemon_version"
        case protocolVersion = "protocol_version"
        case pid
        case startedAt = "started_at"
        case uptimeSeconds = "uptime_seconds"
        case clockMode = "clock_mode"
        case now
        case timeZone = "time_zone"
        case statePath = "state_path"
        case socketPath = "socket_path"
        case configPath = "config_path"
        case counts
        case lastReload = "last_reload"
        case lastError = "last_error"
        case stateError = "state_error"
    }

}

/// Encoding and decoding of protocol lines, shared by daemon and clients so both agree.
public enum ControlCoding {
    /// JSON for one line (no newline inside; sorted keys for stable output).
    public static func encodeLine<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var bytes = [UInt8](try encoder.encode(value))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    /// A response line, written by `JSONValue.write(to:)` (the same bytes as the generic
    /// `encodeLine`, several times faster for a large result).
    public static func encodeLine(_ response: ControlResponse) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try JSONValueEncoder.encode(response).write(to: &bytes)
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    public static func decode<T: Decodable>(_ type: T.Type, from line: [UInt8]) throws -> T {
        try JSONDecoder().decode(type, from: Data(line))
    }

    /// Re-types a `JSONValue` result into a concrete result type.
    public static func convert<T: Decodable>(_ value: JSONValue, to type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: JSONEncoder().encode(value))
    }

    /// Turns a concrete result into a `JSONValue` (directly, not through JSON bytes:
    /// `JSONValueEncoder`).
    public static func value<T: Encodable>(_ result: T) throws -> JSONValue {
        try JSONValueEncoder.encode(result)
    }
}

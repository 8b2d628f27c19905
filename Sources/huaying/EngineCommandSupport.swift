import ArgumentParser
import ControlProtocol
import Foundation

/// Helpers shared by the workflow-engine commands (start, instances, show, update, cancel,
/// inbox, ack, audit, clock).
enum EngineOutput {
    /// Re-types a daemon result, exiting 3 with a message when it has an unexpected shape
    /// (a daemon of another version).
    static func decode<T: Decodable>(_ value: JSONValue, as type: T.Type, command: String) throws -> T {
        do {
            return try ControlCoding.convert(value, to: type)
        } catch {
            printError(Message.errorUnexpectedAnswer(command, error))
            throw ExitCode(ExitStatus.unavailable)
        }
    }

    /// Sends a command and re-types its result.
    static func call<T: Decodable>(_ command: String, arguments: [String: JSONValue] = [:], globals: GlobalOptions,
                                   as type: T.Type) throws -> T {
        try decode(callDaemon(command, arguments: arguments, globals: globals), as: type, command: command)
    }

    /// An instant for a table cell: `2026-11-25 周三 09:00`, or `-` when absent.
    static func time(_ instant: String?) -> String {
        instant.map(TextFormatting.instant) ?? "-"
    }

    /// An instant for people in `zone`, whatever offset the daemon wrote it with (`status`
    /// reports some instants in UTC): `2026-11-25 周三 09:00 +08:00`.
    static func time(_ instant: String, zone: TimeZone) -> String {
        guard let date = parseInstant(instant) else { return instant }
        return TextFormatting.instant(isoInstant(date, zone: zone)) + " " + offset(of: date, in: zone)
    }

    /// Reads an ISO 8601 instant with or without fractional seconds.
    static func parseInstant(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions.insert(.withFractionalSeconds)
        return formatter.date(from: text)
    }

    /// `2026-11-25T09:00:00+08:00`: an instant with `zone`'s offset (the JSON convention), with
    /// milliseconds only when there are some, so whole-second instants read as before.
    static func isoInstant(_ date: Date, zone: TimeZone) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = zone
        if date.timeIntervalSince1970.truncatingRemainder(dividingBy: 1) != 0 {
            formatter.formatOptions.insert(.withFractionalSeconds)
        }
        return formatter.string(from: date).replacingOccurrences(of: "Z", with: "+00:00")
    }

    /// `+08:00`.
    static func offset(of date: Date, in zone: TimeZone) -> String {
        let seconds = zone.secondsFromGMT(for: date)
        let sign = seconds < 0 ? "-" : "+"
        let hours = abs(seconds) / 3600, minutes = abs(seconds) % 3600 / 60
        return sign + (hours < 10 ? "0" : "") + "\(hours):" + (minutes < 10 ? "0" : "") + "\(minutes)"
    }

    /// The first 12 characters of a version hash.
    static func shortVersion(_ version: String) -> String { String(version.prefix(12)) }

    /// A string map as a JSON object argument.
    static func object(_ map: [String: String]) -> JSONValue {
        .object(map.mapValues { .string($0) })
    }

    /// `name=value, name=value` in name order.
    static func pairs(_ map: [String: String]) -> String {
        map.keys.sorted().map { "\($0)=\(map[$0]!)" }.joined(separator: ", ")
    }
}

/// Repeatable `name=value` options (`--param`, `--set`).
enum KeyValueOption {
    /// Parses `name=value` items; the value may be empty and may contain `=`.
    /// - Throws: `ValidationError` naming the option and the bad item, or a name given twice.
    static func parse(_ items: [String], option: String, example: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for item in items {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw ValidationError("\(option) '\(item)' must be name=value with a non-empty name, e.g. \(option) \(example)")
            }
            let name = String(item[..<equals]).trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else {
                throw ValidationError("\(option) '\(item)' must be name=value with a non-empty name, e.g. \(option) \(example)")
            }
            guard result[name] == nil else {
                throw ValidationError("\(option) \(name) is given twice; give each name once")
            }
            result[name] = String(item[item.index(after: equals)...])
        }
        return result
    }
}

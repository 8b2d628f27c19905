import ControlProtocol
import Foundation
import StepPluginAPI

/// The JSON of the exec protocol (`docs/plugins.md`): the request the daemon writes to a
/// plugin's stdin and the one result it reads from the plugin's stdout.
enum PluginJSON {
    /// The protocol version the daemon speaks.
    static let protocolVersion = 1

    /// Compact JSON with sorted keys.
    static func text(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// A stored request with this attempt's `attempt` and `idempotency_key` added, as bytes
    /// ending in a newline.
    static func request(_ stored: String, idempotencyKey: String, attempt: Int) -> [UInt8] {
        var object = (try? JSONSerialization.jsonObject(with: Data(stored.utf8))) as? [String: Any] ?? [:]
        object["idempotency_key"] = idempotencyKey
        object["attempt"] = attempt
        return Array((text(object) + "\n").utf8)
    }

    /// A rendered `with:` value as JSON, typed by the plugin's schema: text the schema calls
    /// an integer, number, boolean or null becomes one (when it reads as one).
    static func value(_ value: PluginValue, schema: JSONSchema?) -> Any {
        switch value {
        case let .text(text):
            for type in schema?.types ?? [] {
                switch type {
                case .integer: if let number = Int64(text) { return number }
                case .number: if let number = Double(text), number.isFinite { return number }
                case .boolean: if ["true", "false"].contains(text.lowercased()) { return text.lowercased() == "true" }
                case .null: if ["", "~", "null"].contains(text.lowercased()) { return NSNull() }
                case .string, .array, .object: break
                }
            }
            return text
        case let .list(items):
            return items.map { self.value($0, schema: schema?.items) }
        case let .mapping(entries):
            var object: [String: Any] = [:]
            for entry in entries { object[entry.key] = self.value(entry.value, schema: schema?.property(entry.key)) }
            return object
        }
    }

    /// Reads a plugin's stdout as exactly one result object; anything else is a retryable
    /// failure saying what was wrong.
    static func result(from bytes: [UInt8]) -> PluginResult {
        let trimmed = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return .retry(afterSeconds: nil, reason: "the plugin wrote no result on stdout") }
        guard let parsed = try? JSONDecoder().decode(JSONValue.self, from: Data(trimmed.utf8)), case let .object(object) = parsed else {
            return .retry(afterSeconds: nil, reason: "the plugin's stdout is not one JSON object: \(excerpt(trimmed))")
        }
        switch object["status"]?.stringValue {
        case "completed":
            var flat: [String: String] = [:]
            switch object["output"] {
            case nil, .null?: break
            case let .object(fields)?: for (key, value) in fields { flat[key] = text(of: value) }
            default: return .retry(afterSeconds: nil, reason: "'output' of a completed result must be a JSON object")
            }
            return .completed(output: flat)
        case "retry":
            let reason = object["reason"]?.stringValue ?? "the plugin asked to retry"
            var after: Double?
            if let value = object["after_seconds"] {
                guard case let .number(number) = value, number.isFinite, number >= 0 else {
                    return .retry(afterSeconds: nil, reason: "'after_seconds' must be a number of seconds ≥ 0 (\(reason))")
                }
                after = min(number, 86_400)
            }
            return .retry(afterSeconds: after, reason: reason)
        case "failed":
            return .failed(reason: object["reason"]?.stringValue ?? "the plugin reported a failure without a reason")
        default:
            return .retry(afterSeconds: nil, reason: "the result's 'status' must be completed, retry or failed: \(excerpt(trimmed))")
        }
    }

    /// An output value as text: strings as they are, anything else as its JSON.
    static func text(of value: JSONValue) -> String {
        switch value {
        case let .string(string): return string
        case .null: return ""
        case let .bool(bool): return bool ? "true" : "false"
        case let .number(number):
            return number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .array, .object:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
    }

    static func excerpt(_ text: String) -> String {
        text.count <= 120 ? text : String(text.prefix(120)) + "…"
    }
}

import Foundation
import StepPluginAPI

/// Checks a step's `with:` against an external plugin's `input_schema` (the JSON Schema
/// subset of `JSONSchema`), reporting each mismatch at its `file:line:col`.
///
/// YAML scalars are text until the step runs, so `integer`, `number`, `boolean` and `null`
/// are checked on how the text reads. Text holding `{{…}}` is checked by the workflow checker
/// (the names it uses) and for its type only once rendered: `enum`, `pattern` and the
/// lengths are skipped for it.
struct JSONSchemaCheck {
    let plugin: String

    func validate(_ input: YAMLValue?, against schema: JSONSchema, check: inout StepInputCheck) {
        guard let input else {
            if !schema.required.isEmpty {
                check.error(check.usesLocation, "\(plugin) needs 'with:' giving \(schema.required.joined(separator: ", "))")
            }
            return
        }
        validate(input, schema, path: "with", check: &check)
    }

    private func validate(_ value: YAMLValue, _ schema: JSONSchema, path: String, check: inout StepInputCheck) {
        if case let .text(text, _) = value, text.contains("{{") {
            check.template(value, key: path)
            return
        }
        if !schema.types.isEmpty, !schema.types.contains(where: { Self.matches(value, $0) }) {
            let expected = schema.types.map(\.rawValue).joined(separator: " or ")
            check.error(value.location, "'\(path)' of \(plugin) must be \(expected), found \(Self.describe(value))")
            return
        }
        switch value {
        case let .text(text, location):
            check.template(value, key: path)
            if let allowed = schema.enumValues, !allowed.contains(text) {
                check.error(location, "'\(path)' of \(plugin) must be one of \(allowed.joined(separator: ", ")); found '\(text)'")
            }
            let length = text.count
            if let minimum = schema.minLength, length < minimum {
                check.error(location, "'\(path)' of \(plugin) must be at least \(minimum) characters long; found \(length)")
            }
            if let maximum = schema.maxLength, length > maximum {
                check.error(location, "'\(path)' of \(plugin) must be at most \(maximum) characters long; found \(length)")
            }
            if let pattern = schema.pattern, let regex = try? NSRegularExpression(pattern: pattern),
               regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil {
                check.error(location, "'\(path)' of \(plugin) must match the pattern \(pattern); found '\(text)'")
            }
            if schema.minimum != nil || schema.maximum != nil, let number = Double(text) {
                if let minimum = schema.minimum, number < minimum {
                    check.error(location, "'\(path)' of \(plugin) must be at least \(Self.format(minimum)); found \(text)")
                }
                if let maximum = schema.maximum, number > maximum {
                    check.error(location, "'\(path)' of \(plugin) must be at most \(Self.format(maximum)); found \(text)")
                }
            }
        case let .list(items, _):
            if let allowed = schema.enumValues {
                check.error(value.location, "'\(path)' of \(plugin) must be one of \(allowed.joined(separator: ", ")); found a list")
            }
            for (index, item) in items.enumerated() {
                validate(item, schema.items ?? .anything, path: "\(path)[\(index)]", check: &check)
            }
        case let .mapping(entries, location):
            for key in schema.required where !entries.contains(where: { $0.key == key }) {
                let keys = schema.properties.map(\.key).joined(separator: ", ")
                check.error(location, "missing required key '\(key)' in '\(path)' of \(plugin)" + (keys.isEmpty ? "" : "; expected keys: \(keys)"))
            }
            for entry in entries {
                let childPath = path == "with" ? entry.key : "\(path).\(entry.key)"
                if let property = schema.property(entry.key) {
                    validate(entry.value, property, path: childPath, check: &check)
                } else if schema.additionalProperties {
                    validate(entry.value, .anything, path: childPath, check: &check)
                } else {
                    let keys = schema.properties.map(\.key).joined(separator: ", ")
                    check.error(entry.keyLocation, "unknown key '\(entry.key)' in '\(path)' of \(plugin); expected one of: \(keys)")
                }
            }
        }
    }

    static func matches(_ value: YAMLValue, _ type: JSONSchema.ValueType) -> Bool {
        switch (value, type) {
        case (.text, .string): true
        case let (.text(text, _), .integer): Int(text) != nil
        case let (.text(text, _), .number): Double(text).map(\.isFinite) ?? false
        case let (.text(text, _), .boolean): ["true", "false"].contains(text.lowercased())
        case let (.text(text, _), .null): ["", "~", "null"].contains(text.lowercased())
        case (.list, .array), (.mapping, .object): true
        default: false
        }
    }

    static func describe(_ value: YAMLValue) -> String {
        if case let .text(text, _) = value { return "'\(text)'" }
        return value.kindName
    }

    static func format(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }
}

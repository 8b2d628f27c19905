import Foundation
import StepPluginAPI
import Yams

/// An external plugin's `plugin.yaml` (the exec protocol, `docs/plugins.md`).
///
/// ```yaml
/// name: sms
/// version: 1.2.0
/// protocol: 1
/// executable: sms.py
/// kind: step
/// input_schema: { type: object, required: [to], properties: { to: { type: string } } }
/// timeout: 30 seconds
/// max_attempts: 5
/// backoff: { initial: 10 seconds, max: 1 hour }
/// concurrency: 4
/// side_effects: idempotent
/// env: [SMS_TOKEN]
/// ```
public struct PluginManifest: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// Runs as a step type (`uses: NAME`).
        case step
        /// Delivers reminders (`notify: [NAME]`).
        case notifier
    }

    public enum SideEffects: String, Sendable, CaseIterable {
        case none
        case idempotent
        case notIdempotent = "not_idempotent"
    }

    /// The protocol versions this daemon speaks.
    public static let supportedProtocols = [1]

    public var name: String
    public var version: String
    public var protocolVersion: Int
    /// Relative to the plugin's folder.
    public var executable: String
    public var kind: Kind
    public var inputSchema: JSONSchema
    /// One attempt's limit.
    public var timeoutSeconds: Double
    public var maxAttempts: Int
    /// The first retry's delay, doubled (× `backoffFactor`) per attempt up to `backoffMaxSeconds`.
    public var backoffInitialSeconds: Double
    public var backoffMaxSeconds: Double
    public var backoffFactor: Double
    public var concurrency: Int
    public var sideEffects: SideEffects
    /// Names of environment variables the plugin may see (besides `HUAYING_PROTOCOL`).
    public var env: [String]
    /// The manifest file.
    public var file: String

    public static let defaultTimeoutSeconds: Double = 30
    public static let defaultMaxAttempts = 5
    public static let defaultConcurrency = 4

    /// The delay before attempt `attempt + 1` after `attempt` failed (attempt counts from 1).
    public func backoffSeconds(afterAttempt attempt: Int) -> Double {
        var delay = backoffInitialSeconds
        for _ in 1..<max(1, attempt) where delay < backoffMaxSeconds { delay *= backoffFactor }
        return min(delay, backoffMaxSeconds)
    }

    /// Parses a manifest, reporting every problem at its `file:line:col`.
    public static func parse(_ file: YAMLFile) -> (manifest: PluginManifest?, diagnostics: [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        guard let root = file.root else {
            return (nil, [.error(file.start, "empty plugin manifest; expected name, version, protocol and executable")])
        }
        guard var reader = MappingReader(root, in: file, what: "the plugin manifest", diagnostics: &diagnostics) else {
            return (nil, diagnostics)
        }
        let name = reader.string("name", required: true)
        if let name, name.range(of: #"^[a-z0-9][a-z0-9_-]{0,63}$"#, options: .regularExpression) == nil, let node = reader.value("name") {
            reader.report(.error, at: node, "plugin name '\(name)' must be lower-case letters, digits, '-' or '_' (at most 64)")
        }
        let version = reader.string("version", required: true)
        let protocolVersion = reader.integer("protocol", required: true)
        if let protocolVersion, !supportedProtocols.contains(protocolVersion), let node = reader.value("protocol") {
            reader.report(.error, at: node, "protocol \(protocolVersion) is not supported; this daemon speaks protocol \(supportedProtocols.map(String.init).joined(separator: ", "))")
        }
        let executable = reader.string("executable", required: true)
        if let executable, let node = reader.value("executable") {
            if executable.hasPrefix("/") || executable.split(separator: "/").contains("..") || executable.isEmpty {
                reader.report(.error, at: node, "'executable' must be a path inside the plugin's folder (relative, without '..'); found '\(executable)'")
            }
        }
        let kind = reader.choice("kind", from: Kind.allCases.map(\.rawValue)).flatMap(Kind.init(rawValue:)) ?? .step
        var schema = JSONSchema.anything
        if let node = reader.value("input_schema") {
            schema = JSONSchemaReader(file: file).read(node, diagnostics: &diagnostics) ?? .anything
        }
        let timeout = seconds(&reader, "timeout") ?? defaultTimeoutSeconds
        let maxAttempts = reader.integer("max_attempts", in: 1...100) ?? defaultMaxAttempts
        var initial: Double = 10, maximum: Double = 3600, factor: Double = 2
        if var backoff = reader.mapping("backoff") {
            initial = seconds(&backoff, "initial") ?? initial
            maximum = seconds(&backoff, "max") ?? maximum
            if let text = backoff.string("factor"), let node = backoff.value("factor") {
                if let value = Double(text), value >= 1, value <= 10 { factor = value } else {
                    backoff.report(.error, at: node, "'factor' must be a number from 1 to 10; found '\(text)'")
                }
            }
            diagnostics += backoff.finish()
        }
        let concurrency = reader.integer("concurrency", in: 1...64) ?? defaultConcurrency
        let sideEffects = reader.choice("side_effects", from: SideEffects.allCases.map(\.rawValue)).flatMap(SideEffects.init(rawValue:)) ?? .notIdempotent
        var env: [String] = []
        for node in reader.sequence("env") ?? [] {
            guard let text = node.scalar?.string, text.range(of: #"^[A-Za-z_][A-Za-z0-9_]*$"#, options: .regularExpression) != nil else {
                reader.report(.error, at: node, "each 'env' entry must be an environment variable name such as WECOM_KEY")
                continue
            }
            if text == "HUAYING_PROTOCOL" { continue }
            env.append(text)
        }
        diagnostics += reader.finish()
        guard diagnostics.allSatisfy({ $0.severity != .error }), let name, let version, let protocolVersion, let executable else {
            return (nil, diagnostics)
        }
        return (PluginManifest(name: name, version: version, protocolVersion: protocolVersion, executable: executable, kind: kind,
                               inputSchema: schema, timeoutSeconds: timeout, maxAttempts: maxAttempts,
                               backoffInitialSeconds: initial, backoffMaxSeconds: max(initial, maximum), backoffFactor: factor,
                               concurrency: concurrency, sideEffects: sideEffects, env: env, file: file.path), diagnostics)
    }

    /// A number of seconds, or a duration in seconds, minutes or hours (`30 seconds`).
    private static func seconds(_ reader: inout MappingReader, _ key: String) -> Double? {
        guard let text = reader.string(key), let node = reader.value(key) else { return nil }
        if let number = Double(text), number > 0, number <= 86_400 { return number }
        if let offset = try? TimeOffset.parse(text), offset.amount > 0 {
            let unit: Double? = switch offset.unit {
            case .seconds: 1
            case .minutes: 60
            case .hours: 3600
            default: nil
            }
            if let unit, Double(offset.amount) * unit <= 86_400 { return Double(offset.amount) * unit }
        }
        reader.report(.error, at: node, "'\(key)' must be a number of seconds or a duration such as '30 seconds' or '2 minutes' (at most a day); found '\(text)'")
        return nil
    }
}

/// Reads a manifest's `input_schema` into a `JSONSchema`, refusing keywords outside the subset.
struct JSONSchemaReader {
    let file: YAMLFile
    static let annotations = ["$schema", "$id", "title", "description", "default", "examples", "$comment"]

    func read(_ node: Node, diagnostics: inout [Diagnostic]) -> JSONSchema? {
        guard var reader = MappingReader(node, in: file, what: "a JSON schema", diagnostics: &diagnostics) else { return nil }
        var schema = JSONSchema()
        if let typeNode = reader.value("type") {
            let names: [Node] = if case let .sequence(items) = typeNode { Array(items) } else { [typeNode] }
            for item in names {
                guard let text = item.scalar?.string, let type = JSONSchema.ValueType(rawValue: text) else {
                    reader.report(.error, at: item, "'type' must be one of \(JSONSchema.ValueType.allCases.map(\.rawValue).joined(separator: ", "))")
                    continue
                }
                schema.types.append(type)
            }
        }
        if let properties = reader.value("properties") {
            if case let .mapping(mapping) = properties {
                for (key, value) in mapping {
                    guard let name = key.scalar?.string else { continue }
                    if let property = read(value, diagnostics: &diagnostics) { schema.properties.append((name, property)) }
                }
            } else {
                reader.report(.error, at: properties, "'properties' must be a mapping of names to schemas, found \(properties.kindName)")
            }
        }
        for node in reader.sequence("required") ?? [] {
            if let text = node.scalar?.string { schema.required.append(text) } else {
                reader.report(.error, at: node, "'required' lists property names")
            }
        }
        if let text = reader.string("additionalProperties"), let node = reader.value("additionalProperties") {
            switch text.lowercased() {
            case "true": schema.additionalProperties = true
            case "false": schema.additionalProperties = false
            default: reader.report(.error, at: node, "'additionalProperties' must be true or false (schemas there are not supported)")
            }
        }
        if let values = reader.sequence("enum") {
            schema.enumValues = values.compactMap { node in
                guard let text = node.scalar?.string else {
                    reader.report(.error, at: node, "'enum' values must be text, numbers or booleans")
                    return nil
                }
                return text
            }
        }
        if let items = reader.value("items") { schema.items = read(items, diagnostics: &diagnostics) }
        schema.minLength = reader.integer("minLength", in: 0...1_000_000)
        schema.maxLength = reader.integer("maxLength", in: 0...1_000_000)
        if let pattern = reader.string("pattern"), let node = reader.value("pattern") {
            if (try? NSRegularExpression(pattern: pattern)) == nil {
                reader.report(.error, at: node, "'pattern' is not a valid regular expression: \(pattern)")
            } else {
                schema.pattern = pattern
            }
        }
        for key in ["minimum", "maximum"] {
            guard let text = reader.string(key), let node = reader.value(key) else { continue }
            guard let number = Double(text) else {
                reader.report(.error, at: node, "'\(key)' must be a number; found '\(text)'")
                continue
            }
            if key == "minimum" { schema.minimum = number } else { schema.maximum = number }
        }
        schema.description = reader.string("description")
        for key in Self.annotations where key != "description" { _ = reader.value(key) }
        for diagnostic in reader.finish() {
            if diagnostic.message.hasPrefix("unknown key") {
                diagnostics.append(Diagnostic(.error, at: diagnostic.location ?? file.start, diagnostic.message
                    .replacingOccurrences(of: "in a JSON schema; expected one of:", with: "in a JSON schema (not in the supported subset); expected one of:")))
            } else {
                diagnostics.append(diagnostic)
            }
        }
        return schema
    }
}

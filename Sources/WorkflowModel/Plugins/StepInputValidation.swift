import Escalate
import Foundation
import Record
import Remind
import StepPluginAPI

/// Checks the `with:` of a step for one plugin when a workflow file loads.
///
/// Each plugin declares its schema (`StepInputSchema`, in StepPluginAPI); a registry holds the
/// schemas of the plugins loaded, built-in and external alike.
public protocol StepInputValidator: Sendable {
    /// The name used in `uses:`.
    var name: String { get }
    /// Reports problems with `input` (nil when the step has no `with:`) through `check`.
    func validate(_ input: YAMLValue?, check: inout StepInputCheck)
}

/// What a validator reports into: errors and warnings, and the parts the workflow checker
/// verifies against the rest of the file (templates against the params, role references
/// against the org chart).
public struct StepInputCheck: Sendable {
    public let stepID: String
    public let plugin: String
    /// Where `uses:` names the plugin (missing required keys point at `with:` or here).
    public let usesLocation: SourceLocation
    public internal(set) var diagnostics: [Diagnostic] = []
    public internal(set) var templates: [YAMLValue] = []
    public internal(set) var roleReferences: [(reference: RoleReference, location: SourceLocation)] = []

    public init(stepID: String, plugin: String, usesLocation: SourceLocation) {
        self.stepID = stepID
        self.plugin = plugin
        self.usesLocation = usesLocation
    }

    public mutating func error(_ location: SourceLocation, _ message: String) {
        diagnostics.append(.error(location, message))
    }

    public mutating func warning(_ location: SourceLocation, _ message: String) {
        diagnostics.append(.warning(location, message))
    }

    /// Text that may contain `{{…}}`; the workflow checker verifies the names used.
    public mutating func template(_ value: YAMLValue, key: String) {
        guard value.string != nil else {
            error(value.location, "'\(key)' of \(plugin) must be text, found \(value.kindName)")
            return
        }
        templates.append(value)
    }

    /// A role reference such as `election-committee@unit`.
    @discardableResult
    public mutating func roleReference(_ value: YAMLValue, key: String) -> RoleReference? {
        guard let text = value.string else {
            error(value.location, "'\(key)' of \(plugin) must be a role reference such as election-committee@unit, found \(value.kindName)")
            return nil
        }
        guard let reference = RoleReference(text) else {
            error(value.location, "'\(text)' is not a role reference; expected role@unit, role@<kind> (village, community, township, street, county, city) or role@<unit-id>")
            return nil
        }
        roleReferences.append((reference, value.location))
        return reference
    }

    /// A duration such as `1 workday`.
    @discardableResult
    public mutating func duration(_ value: YAMLValue, key: String) -> TimeOffset? {
        guard let text = value.string else {
            error(value.location, "'\(key)' of \(plugin) must be a duration such as '1 workday', found \(value.kindName)")
            return nil
        }
        do {
            let offset = try TimeOffset.parse(text)
            if offset.amount == 0 {
                error(value.location, "'\(key)' must be longer than zero; expected a duration such as '1 workday'")
            }
            return offset
        } catch {
            self.error(value.location, "'\(key)': \(error.message)")
            return nil
        }
    }
}

/// A plugin's declared `with:` schema (StepPluginAPI) checks a step's input: the built-in
/// form key by key, the JSON Schema form by `JSONSchemaCheck`.
extension StepInputSchema: StepInputValidator {
    public func validate(_ input: YAMLValue?, check: inout StepInputCheck) {
        if let json {
            JSONSchemaCheck(plugin: name).validate(input, against: json, check: &check)
            return
        }
        let keys = fields.map(\.key).joined(separator: ", ")
        guard let input else {
            let required = fields.filter(\.required).map(\.key)
            if !required.isEmpty {
                check.error(check.usesLocation, "\(name) needs 'with:' giving \(required.joined(separator: ", "))")
            }
            return
        }
        guard let entries = input.entries else {
            check.error(input.location, "'with' of \(name) must be a mapping with keys \(keys), found \(input.kindName)")
            return
        }
        for field in fields where field.required && !entries.contains(where: { $0.key == field.key }) {
            check.error(input.location, "missing required key '\(field.key)' in 'with' of \(name); expected keys: \(keys)")
        }
        for entry in entries {
            guard let field = fields.first(where: { $0.key == entry.key }) else {
                check.error(entry.keyLocation, "unknown key '\(entry.key)' in 'with' of \(name); expected one of: \(keys)")
                continue
            }
            let value = entry.value
            switch field.kind {
            case .template:
                check.template(value, key: field.key)
            case .templateMapping:
                if let nested = value.entries {
                    for item in nested { check.template(item.value, key: "\(field.key).\(item.key)") }
                } else {
                    check.error(value.location, "'\(field.key)' of \(name) must be a mapping of names to text, found \(value.kindName)")
                }
            case .roleReferences:
                if let items = value.items {
                    if items.isEmpty { check.error(value.location, "'\(field.key)' of \(name) must name at least one role") }
                    for item in items { check.roleReference(item, key: field.key) }
                } else {
                    check.roleReference(value, key: field.key)
                }
            case .roleReferenceList:
                guard let items = value.items, !items.isEmpty else {
                    check.error(value.location, "'\(field.key)' of \(name) must be a non-empty list of role references such as [civil-affairs@township, civil-affairs@county], found \(value.kindName)")
                    continue
                }
                for item in items { check.roleReference(item, key: field.key) }
            case .duration:
                check.duration(value, key: field.key)
            }
        }
    }
}

/// The plugins a workflow file may name in `uses:`, by name.
public struct StepPluginRegistry: Sendable {
    public private(set) var validators: [String: any StepInputValidator] = [:]
    /// The notifier plugins a step's `notify:` may name.
    public var notifiers: Set<String> = []

    public init(_ validators: [any StepInputValidator] = []) {
        for validator in validators { register(validator) }
    }

    /// Adds or replaces the validator for `validator.name`.
    public mutating func register(_ validator: any StepInputValidator) {
        validators[validator.name] = validator
    }

    public subscript(name: String) -> (any StepInputValidator)? { validators[name] }

    public var names: [String] { validators.keys.sorted() }

    /// A registry of these plugins' declared schemas.
    public init(plugins: [any StepPlugin]) {
        self.init(plugins.map(\.inputSchema))
    }

    /// record, remind and escalate, checked by the schemas they declare.
    public static let builtIn = StepPluginRegistry(plugins: builtInPlugins)

    /// The plugins compiled into Huaying.
    public static var builtInPlugins: [any StepPlugin] { [RecordPlugin(), RemindPlugin(), EscalatePlugin()] }
}

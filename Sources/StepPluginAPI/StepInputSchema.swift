/// What a plugin accepts in a step's `with:` block, declared by the plugin itself so that
/// `lint`, `plan` and the daemon's loader check every plugin the same way (built-in or
/// external) and report a bad `with:` at `file:line:col`.
///
/// Two forms: the built-ins name their keys with Huaying's own kinds (a role reference, a
/// duration, text with `{{…}}`); an external plugin gives a JSON Schema subset
/// (`JSONSchema`) in its manifest.
public struct StepInputSchema: Sendable, Equatable {
    /// A built-in key's kind.
    public enum Kind: Sendable, Equatable {
        /// Text that may use `{{…}}`.
        case template
        /// A mapping of names to templates (`fields:` of record).
        case templateMapping
        /// One role reference or a list of them.
        case roleReferences
        /// A non-empty list of role references, in order (an escalation chain).
        case roleReferenceList
        /// A duration such as `1 workday`.
        case duration
    }

    public struct Field: Sendable, Equatable {
        public var key: String
        public var kind: Kind
        public var required: Bool

        public init(_ key: String, _ kind: Kind, required: Bool = false) {
            self.key = key
            self.kind = kind
            self.required = required
        }
    }

    /// The plugin's name (as in `uses:`).
    public var name: String
    /// The keys of the built-in form (empty for the JSON form).
    public var fields: [Field]
    /// The JSON Schema form (an external plugin's `input_schema`); takes the place of `fields`.
    public var json: JSONSchema?

    /// The built-in form: these keys and no others.
    public init(name: String, fields: [Field]) {
        self.name = name
        self.fields = fields
        json = nil
    }

    /// The JSON Schema form.
    public init(name: String, json: JSONSchema) {
        self.name = name
        fields = []
        self.json = json
    }
}

/// The subset of JSON Schema (draft 2020-12 keywords) a plugin manifest's `input_schema` may
/// use: `type`, `properties`, `required`, `additionalProperties` (true/false), `enum`, `items`,
/// `minLength`, `maxLength`, `pattern`, `minimum`, `maximum`, `description`. Any other keyword
/// is refused when the manifest loads, so a schema never silently checks less than it says.
public struct JSONSchema: Sendable, Equatable {
    public enum ValueType: String, Sendable, CaseIterable {
        case string, integer, number, boolean, array, object, null
    }

    /// Allowed types; empty = any.
    public var types: [ValueType] = []
    /// Named properties of an object, in the manifest's order.
    public var properties: [(key: String, schema: JSONSchema)] = []
    public var required: [String] = []
    /// Whether keys other than `properties` are allowed (JSON Schema's default: true).
    public var additionalProperties = true
    /// Allowed values, each as its JSON text form (`"a"` is given as `a`, numbers as written).
    public var enumValues: [String]?
    /// The schema of every item of an array.
    public var items: JSONSchema? {
        get { itemsBox.first }
        set { itemsBox = newValue.map { [$0] } ?? [] }
    }
    private var itemsBox: [JSONSchema] = []
    public var minLength: Int?
    public var maxLength: Int?
    /// An ECMA-262 regular expression a string must match (unanchored, as in JSON Schema).
    public var pattern: String?
    public var minimum: Double?
    public var maximum: Double?
    public var description: String?

    public init() {}

    /// Accepts anything.
    public static let anything = JSONSchema()

    public static func == (lhs: JSONSchema, rhs: JSONSchema) -> Bool {
        lhs.types == rhs.types && lhs.required == rhs.required && lhs.additionalProperties == rhs.additionalProperties
            && lhs.enumValues == rhs.enumValues && lhs.itemsBox == rhs.itemsBox && lhs.minLength == rhs.minLength
            && lhs.maxLength == rhs.maxLength && lhs.pattern == rhs.pattern && lhs.minimum == rhs.minimum
            && lhs.maximum == rhs.maximum && lhs.description == rhs.description
            && lhs.properties.map(\.key) == rhs.properties.map(\.key)
            && zip(lhs.properties, rhs.properties).allSatisfy { $0.schema == $1.schema }
    }

    /// The schema of a named property, if declared.
    public func property(_ key: String) -> JSONSchema? {
        properties.first { $0.key == key }?.schema
    }
}

extension StepPlugin {
    /// A plugin that declares nothing accepts any `with:` (its `run` checks what it needs).
    public var inputSchema: StepInputSchema { StepInputSchema(name: name, json: .anything) }
}

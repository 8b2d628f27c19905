import Yams

/// A YAML value with the position of every part, detached from Yams (so definitions holding
/// it stay `Sendable`). Used for a step's `with:`, whose shape belongs to the plugin.
public indirect enum YAMLValue: Hashable, Sendable {
    public struct Entry: Hashable, Sendable {
        public var key: String
        public var keyLocation: SourceLocation
        public var value: YAMLValue
    }

    case text(String, SourceLocation)
    case list([YAMLValue], SourceLocation)
    case mapping([Entry], SourceLocation)

    /// Converts a composed node (aliases become empty text).
    public init(_ node: Node, in file: YAMLFile) {
        let location = file.location(of: node)
        switch node {
        case let .scalar(scalar):
            self = .text(scalar.string, location)
        case let .sequence(items):
            self = .list(items.map { YAMLValue($0, in: file) }, location)
        case let .mapping(mapping):
            self = .mapping(mapping.map { key, value in
                Entry(key: key.scalar?.string ?? "", keyLocation: file.location(of: key), value: YAMLValue(value, in: file))
            }, location)
        case .alias:
            self = .text("", location)
        }
    }

    public var location: SourceLocation {
        switch self {
        case let .text(_, location), let .list(_, location), let .mapping(_, location): location
        }
    }

    public var string: String? {
        if case let .text(text, _) = self { return text }
        return nil
    }

    public var entries: [Entry]? {
        if case let .mapping(entries, _) = self { return entries }
        return nil
    }

    public var items: [YAMLValue]? {
        if case let .list(items, _) = self { return items }
        return nil
    }

    /// The value under a key of a mapping.
    public subscript(key: String) -> YAMLValue? {
        entries?.first { $0.key == key }?.value
    }

    /// "text", "a list", "a mapping", for messages.
    public var kindName: String {
        switch self {
        case .text: "text"
        case .list: "a list"
        case .mapping: "a mapping"
        }
    }

    /// Plain Swift values (String, [Any], [String: Any]) for JSON output.
    public var plain: any Sendable {
        switch self {
        case let .text(text, _): text
        case let .list(items, _): items.map(\.plain)
        case let .mapping(entries, _): Dictionary(entries.map { ($0.key, $0.value.plain) }, uniquingKeysWith: { a, _ in a })
        }
    }
}

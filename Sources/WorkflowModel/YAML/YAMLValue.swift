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

    /// Converts a composed node (aliases become empty text). Iterative: a file's nesting is
    /// bounded (`YAMLFile.maximumDepth`), but the conversion does not rely on it for its stack.
    public init(_ node: Node, in file: YAMLFile) {
        /// A list or mapping whose children are being converted.
        struct Open {
            var node: Node
            var children: [Node]
            var converted: [YAMLValue] = []
        }
        func leaf(_ node: Node) -> YAMLValue? {
            switch node {
            case let .scalar(scalar): .text(scalar.string, file.location(of: node))
            case .alias: .text("", file.location(of: node))
            case .sequence, .mapping: nil
            }
        }
        func children(of node: Node) -> [Node] {
            switch node {
            case let .sequence(items): Array(items)
            case let .mapping(mapping): mapping.map(\.value)
            case .scalar, .alias: []
            }
        }
        func close(_ open: Open) -> YAMLValue {
            let location = file.location(of: open.node)
            guard case let .mapping(mapping) = open.node else { return .list(open.converted, location) }
            return .mapping(zip(mapping.map(\.key), open.converted).map { key, value in
                Entry(key: key.scalar?.string ?? "", keyLocation: file.location(of: key), value: value)
            }, location)
        }
        if let value = leaf(node) {
            self = value
            return
        }
        var stack = [Open(node: node, children: children(of: node))]
        while true {
            let index = stack.count - 1
            if stack[index].converted.count < stack[index].children.count {
                let child = stack[index].children[stack[index].converted.count]
                if let value = leaf(child) {
                    stack[index].converted.append(value)
                } else {
                    stack.append(Open(node: child, children: children(of: child)))
                }
                continue
            }
            let value = close(stack.removeLast())
            guard !stack.isEmpty else {
                self = value
                return
            }
            stack[stack.count - 1].converted.append(value)
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

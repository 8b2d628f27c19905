import Yams

extension MappingReader {
    /// A list under `key`; a single scalar is reported as a wrong type (unless `allowSingle`,
    /// which returns it as a one-element list).
    public mutating func sequence(_ key: String, required: Bool = false, allowSingle: Bool = false) -> [Node]? {
        guard let node = value(key, required: required) else { return nil }
        switch node {
        case let .sequence(items): return Array(items)
        case .scalar where allowSingle: return [node]
        default:
            report(.error, at: node, "'\(key)' must be a list, found \(node.kindName)")
            return nil
        }
    }

    /// A whole number under `key`, optionally within a range.
    public mutating func integer(_ key: String, required: Bool = false, in range: ClosedRange<Int>? = nil) -> Int? {
        guard let text = string(key, required: required), let node = value(key) else { return nil }
        guard let number = Int(text), range?.contains(number) ?? true else {
            let expected = range.map { "a whole number from \($0.lowerBound) to \($0.upperBound)" } ?? "a whole number"
            report(.error, at: node, "'\(key)' must be \(expected); found '\(text)'")
            return nil
        }
        return number
    }

    /// The location of the value under `key`, else of the key, else of the mapping.
    public func location(of key: String) -> SourceLocation {
        keyLocation(key) ?? file.location(of: node)
    }
}

extension YAMLFile {
    /// The text of a scalar node, or a wrong-type error naming `what`.
    func text(_ node: Node, what: String, diagnostics: inout [Diagnostic]) -> String? {
        guard let scalar = node.scalar else {
            diagnostics.append(.error(location(of: node), "\(what) must be text, found \(node.kindName)"))
            return nil
        }
        return scalar.string
    }

    /// The location of the character `offset` (in Unicode scalars) into a one-line scalar,
    /// accounting for an opening quote. Multi-line scalars point at the scalar's start.
    func location(in node: Node, offset: Int) -> SourceLocation {
        var start = location(of: node)
        guard let scalar = node.scalar, !scalar.string.contains("\n") else { return start }
        switch scalar.style {
        case .singleQuoted, .doubleQuoted: start.column += 1
        case .literal, .folded: return start
        default: break
        }
        start.column += offset
        return start
    }
}

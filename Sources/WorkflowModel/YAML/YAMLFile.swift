import Foundation
import Yams

/// A YAML file composed into a node tree, so every later finding can point at `file:line:col`.
///
/// Reading goes in two steps, as Yams recommends: compose once (syntax errors become a
/// `Diagnostic` at the scanner's mark), then walk the nodes with `MappingReader`.
public struct YAMLFile {
    public let path: String
    public let text: String
    public let root: Node?

    /// Reads and composes a file.
    /// - Throws: `Diagnostic` when the file cannot be read, is not UTF-8, or is not valid YAML.
    public init(path: String) throws(Diagnostic) {
        // Foundation's messages for a missing file are vague; ask the system first for the errno text.
        if access(path, R_OK) != 0 {
            throw Diagnostic(.error, file: path, "cannot read file: \(String(cString: strerror(errno)))")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw Diagnostic(.error, file: path, "cannot read file: \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw Diagnostic(.error, file: path, "file is not UTF-8 text")
        }
        try self.init(path: path, text: text)
    }

    /// Composes YAML text that came from `path` (the path is used only in messages).
    /// - Throws: `Diagnostic` with the position of the first syntax error.
    public init(path: String, text: String) throws(Diagnostic) {
        self.path = path
        self.text = text
        do {
            self.root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw Self.diagnostic(for: error, file: path)
        } catch {
            throw Diagnostic(.error, file: path, "cannot parse YAML: \(error)")
        }
    }

    /// The location of a node in this file (line 1, column 1 when Yams gives no mark).
    public func location(of node: Node) -> SourceLocation {
        let mark = node.mark
        return SourceLocation(file: path, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    /// The start of the file, for findings about the document as a whole.
    public var start: SourceLocation { SourceLocation(file: path, line: 1, column: 1) }

    static func diagnostic(for error: YamlError, file: String) -> Diagnostic {
        switch error {
        case let .scanner(context, problem, mark, _),
             let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let location = SourceLocation(file: file, line: mark.line, column: mark.column)
            var message = "invalid YAML: \(problem)"
            if let context { message += " (\(context.text))" }
            return .error(location, message)
        case let .reader(problem, _, _, _):
            return Diagnostic(.error, file: file, "cannot read YAML: \(problem)")
        default:
            return Diagnostic(.error, file: file, "invalid YAML: \(error)")
        }
    }
}

/// Walks one YAML mapping, collecting findings instead of stopping at the first.
///
/// Every key a caller asks for is marked as known; `finish()` reports the keys nobody asked
/// for as unknown, listing the expected ones. Typed accessors report wrong types at the
/// value's position and return nil, so a reader can go on and find the next problem.
public struct MappingReader {
    public let file: YAMLFile
    public let node: Node
    public private(set) var diagnostics: [Diagnostic] = []
    private var pairs: [(key: String, keyNode: Node, value: Node)] = []
    private var known: [String] = []
    private let what: String

    /// - Parameter what: how the mapping is named in messages ("the config file", "step 'x'").
    public init?(_ node: Node, in file: YAMLFile, what: String, diagnostics: inout [Diagnostic]) {
        guard case let .mapping(mapping) = node else {
            diagnostics.append(.error(file.location(of: node), "expected a mapping (key: value lines) for \(what), found \(node.kindName)"))
            return nil
        }
        self.file = file
        self.node = node
        self.what = what
        var seen: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string else {
                self.diagnostics.append(.error(file.location(of: keyNode), "keys of \(what) must be plain text"))
                continue
            }
            if let previous = seen[key] {
                let line = file.location(of: previous).line
                self.diagnostics.append(.error(file.location(of: keyNode), "duplicate key '\(key)' (first given on line \(line))"))
                continue
            }
            seen[key] = keyNode
            pairs.append((key, keyNode, value))
        }
    }

    /// The value node for a key, marking the key as known. Reports a missing required key at the mapping.
    public mutating func value(_ key: String, required: Bool = false) -> Node? {
        if !known.contains(key) { known.append(key) }
        if let pair = pairs.first(where: { $0.key == key }) { return pair.value }
        if required {
            diagnostics.append(.error(file.location(of: node), "missing required key '\(key)' in \(what)"))
        }
        return nil
    }

    /// The location of a key (not its value), if present.
    public func keyLocation(_ key: String) -> SourceLocation? {
        pairs.first(where: { $0.key == key }).map { file.location(of: $0.keyNode) }
    }

    /// A scalar as text (numbers and booleans are given as written).
    public mutating func string(_ key: String, required: Bool = false) -> String? {
        guard let node = value(key, required: required) else { return nil }
        guard let scalar = node.scalar else {
            diagnostics.append(.error(file.location(of: node), "'\(key)' must be text, found \(node.kindName)"))
            return nil
        }
        return scalar.string
    }

    /// One of a fixed set of words; anything else is reported with the choices.
    public mutating func choice(_ key: String, from choices: [String], required: Bool = false) -> String? {
        guard let text = string(key, required: required), let node = value(key) else { return nil }
        let lowered = text.lowercased()
        guard choices.contains(lowered) else {
            diagnostics.append(.error(file.location(of: node), "'\(key)' must be one of \(choices.joined(separator: ", ")); found '\(text)'"))
            return nil
        }
        return lowered
    }

    /// A nested mapping.
    public mutating func mapping(_ key: String, required: Bool = false) -> MappingReader? {
        guard let node = value(key, required: required) else { return nil }
        return MappingReader(node, in: file, what: "'\(key)'", diagnostics: &diagnostics)
    }

    /// Records a finding at a node.
    public mutating func report(_ severity: Diagnostic.Severity, at node: Node, _ message: String) {
        diagnostics.append(Diagnostic(severity, at: file.location(of: node), message))
    }

    /// Reports every key that no accessor asked for, and returns all findings.
    public mutating func finish() -> [Diagnostic] {
        let expected = known.joined(separator: ", ")
        for pair in pairs where !known.contains(pair.key) {
            diagnostics.append(.error(file.location(of: pair.keyNode), "unknown key '\(pair.key)' in \(what); expected one of: \(expected)"))
        }
        return diagnostics
    }
}

extension Node {
    /// "a mapping", "a list", "text", for messages.
    public var kindName: String {
        switch self {
        case .scalar: "text"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }
}

import Foundation
import Yams

/// A YAML file composed into a node tree, so every later finding can point at `file:line:col`.
///
/// Reading goes in two steps, as Yams recommends: compose once (syntax errors become a
/// `Diagnostic` at the scanner's mark), then walk the nodes with `MappingReader`.
///
/// Composing refuses what no Huaying file needs and what would let one small file cost
/// unbounded time or memory later: anchors and aliases (`&name`, `*name`: ten levels of ten
/// aliases expand to 10¹⁰ nodes) and nesting deeper than `maximumDepth`. Bytes that are not
/// UTF-8 text, NUL and other control characters, and duplicate keys are reported at their
/// line and column.
public struct YAMLFile {
    public let path: String
    public let text: String
    public let root: Node?

    /// The deepest nesting of lists and mappings a file may have (a workflow needs about 6).
    public static let maximumDepth = 32

    /// The most bytes a file may have. A workflow of the most steps a file may have
    /// (`WorkflowChecker.defaultMaximumSteps`), one line each, takes about 150 KB; the bound
    /// keeps what one dropped file can cost the daemon's loop (read, compose, check) small.
    public static let maximumBytes = 1 << 20

    /// Reads and composes a file.
    /// - Throws: `Diagnostic` when the file cannot be read, is larger than `maximumBytes`, is
    ///   not UTF-8, or is not valid YAML.
    public init(path: String) throws(Diagnostic) {
        try self.init(path: path, text: try Self.readText(path: path))
    }

    /// The text of a file, read with a bound: never more than `maximumBytes` + 1 bytes.
    /// - Throws: `Diagnostic` when the file cannot be read, at 1:1 when it is larger than
    ///   `maximumBytes`, and at the line and column of the first byte that is not UTF-8.
    public static func readText(path: String) throws(Diagnostic) -> String {
        // Foundation's messages for a missing file are vague; ask the system first for the errno text.
        if access(path, R_OK) != 0 {
            throw Diagnostic(.error, file: path, "cannot read file: \(String(cString: strerror(errno)))")
        }
        let bytes: [UInt8]
        do {
            bytes = try FileBytes.read(path: path, atMost: maximumBytes + 1)
        } catch {
            throw Diagnostic(.error, file: path, "cannot read file: \(error)")
        }
        if bytes.count > maximumBytes { throw tooLarge(path) }
        return try decode(Data(bytes), path: path)
    }

    static func tooLarge(_ path: String) -> Diagnostic {
        .error(SourceLocation(file: path, line: 1, column: 1),
               "the file is larger than \(maximumBytes) bytes (1 MiB), the most a Huaying file may have; expected a smaller file (a long workflow split into workflows that start each other with 'then:')")
    }

    /// Composes YAML text that came from `path` (the path is used only in messages).
    /// - Throws: `Diagnostic` with the position of the first syntax error.
    public init(path: String, text: String) throws(Diagnostic) {
        self.path = path
        self.text = text
        if let offset = text.utf8.firstIndex(of: 0) {
            throw .error(Self.location(ofByte: text.utf8.distance(from: text.utf8.startIndex, to: offset), in: text, file: path),
                         "a NUL byte (0x00) is not allowed in YAML text; expected a text file")
        }
        // Yams hashes every mapping key while composing: an alias used as a key would be
        // expanded there, before any check of the tree could run. Anchors are found first.
        if let anchor = Self.firstAnchor(in: text) {
            throw .error(SourceLocation(file: path, line: anchor.line, column: anchor.column),
                         "anchors and aliases (&\(anchor.name), *\(anchor.name)) are not allowed; expected the value written out in full")
        }
        let parser: Yams.Parser
        let root: Node?
        do {
            parser = try Yams.Parser(yaml: text)
            root = try parser.singleRoot()
        } catch let error as YamlError {
            throw Self.diagnostic(for: error, file: path, text: text)
        } catch {
            throw Diagnostic(.error, file: path, "cannot parse YAML: \(error)")
        }
        // A node holds its anchor weakly; the parser keeps the anchors alive for the check.
        try withExtendedLifetime(parser) { () throws(Diagnostic) in
            if let root { try Self.checkShape(of: root, file: path) }
        }
        self.root = root
    }

    /// The text of a file's bytes.
    /// - Throws: `Diagnostic` at the line and column of the first byte that is not UTF-8.
    public static func decode(_ data: Data, path: String) throws(Diagnostic) -> String {
        if let text = String(data: data, encoding: .utf8) { return text }
        let bytes = [UInt8](data)
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var offset = 0
        decoding: while true {
            switch decoder.decode(&iterator) {
            case let .scalarValue(scalar): offset += UTF8.width(scalar)
            case .emptyInput: break decoding
            case .error: break decoding
            }
        }
        let valid = String(decoding: bytes[..<offset], as: UTF8.self)
        let byte = offset < bytes.count ? bytes[offset] : 0
        let hex = String(byte, radix: 16, uppercase: true)
        throw .error(location(ofByte: offset, in: valid, file: path),
                     "byte 0x\(hex.count < 2 ? "0" : "")\(hex) is not UTF-8 text; expected the file to be saved as UTF-8")
    }

    /// The location of a node in this file (line 1, column 1 when Yams gives no mark).
    public func location(of node: Node) -> SourceLocation {
        let mark = node.mark
        return SourceLocation(file: path, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    /// The start of the file, for findings about the document as a whole.
    public var start: SourceLocation { SourceLocation(file: path, line: 1, column: 1) }

    /// The line and column (in Unicode scalars, as libyaml counts) of a UTF-8 byte offset.
    static func location(ofByte offset: Int, in text: String, file: String) -> SourceLocation {
        var line = 1
        var column = 1
        var bytes = 0
        for scalar in text.unicodeScalars {
            if bytes >= offset { break }
            bytes += UTF8.width(scalar)
            if scalar == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return SourceLocation(file: file, line: line, column: column)
    }

    /// The first `&name` where YAML reads it as an anchor: at the start of a node (after the
    /// indentation, `- `, `: `, `? `, `[`, `{`, `,` or the node's tag), outside quotes, comments
    /// and block scalars. A scan of the text, so it costs one pass whatever the aliases would expand to;
    /// `checkShape` checks the composed tree as well.
    static func firstAnchor(in text: String) -> (line: Int, column: Int, name: String)? {
        var quote: Unicode.Scalar?
        var blockIndent: Int?
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let scalars = Array(line.unicodeScalars)
            let indent = scalars.prefix { $0 == " " }.count
            if let block = blockIndent, quote == nil {
                if indent == scalars.count || indent > block { continue }
                blockIndent = nil
            }
            var previous: Unicode.Scalar?  // the last character that is not a space, on this line
            var spaceBefore = true
            var end = scalars.count
            var i = 0
            while i < scalars.count {
                let c = scalars[i]
                if let open = quote {
                    if open == "\"" && c == "\\" { i += 2; continue }
                    if c == open {
                        if open == "'" && i + 1 < scalars.count && scalars[i + 1] == "'" { i += 2; continue }
                        quote = nil
                    }
                    previous = c
                    spaceBefore = false
                    i += 1
                    continue
                }
                if c == " " || c == "\t" {
                    spaceBefore = true
                    i += 1
                    continue
                }
                let nodeStart = previous == nil || previous == "[" || previous == "{" || previous == ","
                    || (spaceBefore && (previous == "-" || previous == ":" || previous == "?"))
                if c == "#" && spaceBefore {
                    end = i
                    break
                }
                if nodeStart && (c == "\"" || c == "'") { quote = c }
                if nodeStart && c == "!" {
                    // A tag (`!x`, `!!seq`, `!<tag:yaml.org,2002:seq>`) is a property of the node, as an
                    // anchor is, in either order: what follows it still starts the node.
                    i += 1
                    if i < scalars.count && scalars[i] == "<" {
                        while i < scalars.count && scalars[i] != ">" { i += 1 }
                        i += 1
                    } else {
                        while i < scalars.count && !" \t,[]{}".unicodeScalars.contains(scalars[i]) { i += 1 }
                    }
                    previous = nil
                    spaceBefore = false
                    continue
                }
                if nodeStart && c == "&" {
                    let name = scalars[(i + 1)...].prefix { !" \t,[]{}".unicodeScalars.contains($0) }
                    return (index + 1, i + 1, String(String.UnicodeScalarView(name)))
                }
                previous = c
                spaceBefore = false
                i += 1
            }
            // A value `|` or `>` (with indicators) starts a block scalar: more indented lines are its text.
            if quote == nil {
                var content = Array(scalars[..<end])
                while let last = content.last, last == " " || last == "\t" { content.removeLast() }
                while let last = content.last, last == "+" || last == "-" || ("0"..."9").contains(last) { content.removeLast() }
                if let last = content.last, last == "|" || last == ">" {
                    let before = content.dropLast().last
                    if before == nil || before == " " { blockIndent = indent }
                }
            }
        }
        return nil
    }

    /// Refuses anchors (and so aliases, which need one) and deep nesting. Iterative, and it
    /// does not enter an anchored node, so it costs one visit per node as written.
    static func checkShape(of root: Node, file: String) throws(Diagnostic) {
        var pending: [(node: Node, depth: Int)] = [(root, 1)]
        while let (node, depth) = pending.popLast() {
            let mark = node.mark
            let location = SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
            if let anchor = node.anchor {
                throw .error(location, "anchors and aliases (&\(anchor.rawValue), *\(anchor.rawValue)) are not allowed; expected the value written out in full")
            }
            if depth > maximumDepth, node.scalar == nil {
                throw .error(location, "lists and mappings are nested more than \(maximumDepth) deep; expected a flatter file")
            }
            switch node {
            case let .mapping(mapping):
                for (key, value) in mapping.reversed() {
                    pending.append((value, depth + 1))
                    pending.append((key, depth + 1))
                }
            case let .sequence(sequence):
                for item in sequence.reversed() { pending.append((item, depth + 1)) }
            case .scalar, .alias:
                break
            }
        }
    }

    static func diagnostic(for error: YamlError, file: String, text: String) -> Diagnostic {
        switch error {
        case let .scanner(context, problem, mark, _),
             let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let location = SourceLocation(file: file, line: mark.line, column: mark.column)
            var message = "invalid YAML: \(problem)"
            if let context { message += " (\(context.text))" }
            return .error(location, message)
        case let .reader(problem, offset, value, _):
            let hex = String(value, radix: 16, uppercase: true)
            let message = "cannot read YAML: \(problem) (0x\(hex.count < 2 ? "0" : "")\(hex))"
            guard let offset else { return Diagnostic(.error, file: file, message) }
            return .error(location(ofByte: offset, in: text, file: file), message)
        case let .duplicatedKeysInMapping(duplicates, context):
            return duplicateKey(duplicates.first ?? "", first: context.mark, file: file, text: text)
        default:
            return Diagnostic(.error, file: file, "invalid YAML: \(error)")
        }
    }

    /// Yams refuses duplicate keys while composing and names only the first occurrence; the
    /// finding points at the repetition (a later line that gives the same key at the same
    /// column), as the other duplicate findings do, else at the first occurrence.
    static func duplicateKey(_ key: String, first: Mark, file: String, text: String) -> Diagnostic {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let column = first.column - 1
        for (index, line) in lines.enumerated() where index >= first.line {
            let scalars = Array(line.unicodeScalars)
            guard column < scalars.count else { continue }
            let before = scalars[..<column]
            guard before.allSatisfy({ $0 == " " || $0 == "-" }) else { continue }
            let rest = String(String.UnicodeScalarView(scalars[column...]))
            if rest.hasPrefix(key + ":") || rest.hasPrefix("\"\(key)\":") || rest.hasPrefix("'\(key)':") {
                return .error(SourceLocation(file: file, line: index + 1, column: first.column),
                              "duplicate key '\(key)' (first given on line \(first.line)); expected each key once in a mapping")
            }
        }
        return .error(SourceLocation(file: file, line: first.line, column: first.column),
                      "duplicate key '\(key)': given more than once in this mapping; expected each key once")
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

import Foundation
import SQLiteStore
import WorkflowModel

/// Every definition version the engine knows: the newest valid one per workflow id (what new
/// instances get), and older ones still pinned by running instances (parsed again from the
/// source stored with them, so editing or deleting a file never changes a running instance).
///
/// - Important: Loop thread only.
/// What a reload did.
public struct ReloadReport: Sendable, Equatable {
    /// Workflows whose file was new or changed and is valid.
    public var loaded: [String] = []
    /// Files that did not load (their findings are in `WorkflowEngine.loadErrors`).
    public var failed: [String] = []
    /// Workflows whose file disappeared: no new instances.
    public var removed: [String] = []
    public var unchanged = 0
}

final class DefinitionRegistry {
    struct Loaded {
        var version: String
        var definition: WorkflowDefinition
    }

    private let db: Database
    private(set) var current: [String: Loaded] = [:]
    private var byVersion: [String: WorkflowDefinition] = [:]
    var checker: WorkflowChecker

    init(db: Database, checker: WorkflowChecker) {
        self.db = db
        self.checker = checker
    }

    /// The content hash that names a version.
    static func version(of text: String) -> String {
        sha256Hex(Data(text.utf8))
    }

    /// Parses and validates a file; on success it becomes the current version of its workflow
    /// and is stored (once per content hash).
    /// - Throws: `DiagnosticsError` with every finding; the previous version stays current.
    @discardableResult
    func register(path: String, text: String, at now: Date) throws(DiagnosticsError) -> Loaded {
        let file: YAMLFile
        do { file = try YAMLFile(path: path, text: text) } catch { throw DiagnosticsError([error]) }
        let result = checker.check(file)
        guard let definition = result.definition, !result.diagnostics.contains(where: { $0.severity == .error }) else {
            throw DiagnosticsError(result.diagnostics)
        }
        let version = Self.version(of: text)
        do {
            try db.execute("""
                INSERT INTO definition (version, workflow, path, source, loaded_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(version) DO NOTHING
                """, [.text(version), .text(definition.id.value), .text(path), .text(text), .integer(Millis.from(now))])
        } catch {
            throw DiagnosticsError([Diagnostic(.error, file: path, "cannot store the definition: \(error)")])
        }
        let loaded = Loaded(version: version, definition: definition)
        current[definition.id.value] = loaded
        byVersion[version] = definition
        return loaded
    }

    /// The findings of each file whose latest content did not load (cleared when it loads).
    private(set) var loadErrors: [String: [Diagnostic]] = [:]
    /// The content hash last seen per file, so an unchanged file is not parsed again.
    private var seenHash: [String: String] = [:]
    /// Which file each current workflow came from.
    private var sourcePath: [String: String] = [:]

    /// Brings the current versions in line with a folder's `*.yaml` / `*.yml` files: a new or
    /// changed valid file becomes its workflow's current version; a broken one leaves the last
    /// good version current and its findings in `loadErrors`; a workflow whose file is gone
    /// takes no new instances (running ones keep their pinned version).
    func reload(directory: String, at now: Date) -> ReloadReport {
        var report = ReloadReport()
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && !$0.hasPrefix(".") }.sorted()
        let paths = names.map { (directory as NSString).appendingPathComponent($0) }
        for path in paths {
            // As lint reads it: bounded, and a byte that is not UTF-8 named at its line and column.
            let text: String
            do {
                text = try YAMLFile.readText(path: path)
            } catch {
                loadErrors[path] = [error]
                report.failed.append(path)
                continue
            }
            let hash = Self.version(of: text)
            if seenHash[path] == hash {
                report.unchanged += 1
                continue
            }
            seenHash[path] = hash
            do {
                let previous = sourcePath.first { $0.value == path }?.key
                let loaded = try register(path: path, text: text, at: now)
                loadErrors[path] = nil
                if let previous, previous != loaded.definition.id.value { current[previous] = nil; sourcePath[previous] = nil }
                sourcePath[loaded.definition.id.value] = path
                report.loaded.append(loaded.definition.id.value)
            } catch {
                loadErrors[path] = error.diagnostics
                report.failed.append(path)
            }
        }
        let present = Set(paths)
        for (workflow, path) in sourcePath where !present.contains(path) {
            current[workflow] = nil
            sourcePath[workflow] = nil
            seenHash[path] = nil
            report.removed.append(workflow)
        }
        for path in loadErrors.keys where !present.contains(path) { loadErrors[path] = nil }
        return report
    }

    /// Forgets what was seen, so the next `reload` parses every file again (after the org
    /// chart or calendars changed, which changes what is valid).
    func forgetSeenFiles() {
        seenHash = [:]
    }

    /// The definition of a stored version (parsed from its stored source the first time).
    func definition(version: String) throws -> WorkflowDefinition {
        if let cached = byVersion[version] { return cached }
        guard let row = try db.queryOne("SELECT path, source FROM definition WHERE version = ?", [.text(version)]) else {
            throw EngineError(.unknownVersion, "definition version \(version.prefix(12)) is not stored")
        }
        let file: YAMLFile
        do {
            file = try YAMLFile(path: try row.text("path"), text: try row.text("source"))
        } catch {
            throw EngineError(.brokenVersion, "stored definition \(version.prefix(12)) no longer parses: \(error)")
        }
        let result = checker.check(file)
        guard let definition = result.definition else {
            let first = result.diagnostics.first.map(\.description) ?? "unknown problem"
            throw EngineError(.brokenVersion, "stored definition \(version.prefix(12)) no longer validates: \(first)")
        }
        byVersion[version] = definition
        return definition
    }
}

import Foundation
import StepPluginAPI

/// The external plugins found in the plugins folder: one folder per plugin holding
/// `plugin.yaml` and the executable. Loaded by `lint` (offline), `plan` and the daemon (at
/// start, on reload and when the folder changes).
///
/// Safety rules: the manifest and the executable must be owned by root or by the user
/// reading them (the daemon's), must not be group- or world-writable, and must not resolve
/// (through `..` or a symbolic link) to a path outside the plugin's folder. A plugin that breaks
/// a rule, or whose manifest has errors, is listed with its problems; its steps fail lint.
public struct PluginCatalog: Sendable {
    public struct Entry: Sendable {
        /// The manifest's name, else the folder's name.
        public var name: String
        public var directory: String
        /// Nil when the plugin cannot be used (see `problems`).
        public var manifest: PluginManifest?
        /// The executable's resolved path.
        public var executablePath: String?
        /// Errors (the plugin is unusable) and warnings.
        public var problems: [Diagnostic]

        public var isUsable: Bool { manifest != nil && executablePath != nil && !problems.contains { $0.severity == .error } }
    }

    public var directory: String
    public var entries: [Entry]

    public init(directory: String, entries: [Entry]) {
        self.directory = directory
        self.entries = entries
    }

    /// Every problem of every plugin.
    public var diagnostics: [Diagnostic] { entries.flatMap(\.problems) }

    /// The usable plugins' manifests.
    public var manifests: [PluginManifest] { entries.filter(\.isUsable).compactMap(\.manifest) }

    /// The plugin named `name`, usable or not.
    public subscript(name: String) -> Entry? { entries.first { $0.name == name } }

    /// The owners a plugin's files may have: root and the current effective user.
    public static var trustedOwners: Set<UInt32> { [0, UInt32(geteuid())] }

    /// Reads every plugin folder (none when the folder does not exist).
    public static func load(directory: String, trustedOwners: Set<UInt32> = PluginCatalog.trustedOwners,
                            builtInNames: Set<String> = Set(StepPluginRegistry.builtIn.names)) -> PluginCatalog {
        var catalog = PluginCatalog(directory: directory, entries: [])
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue,
              let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return catalog }
        let root = realPath(directory) ?? directory
        for folderName in names.sorted() where !folderName.hasPrefix(".") {
            let folder = (directory as NSString).appendingPathComponent(folderName)
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            var entry = Entry(name: folderName, directory: folder, manifest: nil, executablePath: nil, problems: [])
            let manifestPath = (folder as NSString).appendingPathComponent("plugin.yaml")
            guard let resolvedFolder = realPath(folder), isInside(resolvedFolder, root) else {
                entry.problems.append(Diagnostic(.error, file: folder, "the plugin folder leaves the plugins folder \(directory) (a symbolic link?); refused"))
                catalog.entries.append(entry)
                continue
            }
            guard FileManager.default.fileExists(atPath: manifestPath) else {
                entry.problems.append(Diagnostic(.error, file: manifestPath, "no plugin.yaml in the plugin folder; expected name, version, protocol and executable"))
                catalog.entries.append(entry)
                continue
            }
            if let problem = unsafe(manifestPath, inside: resolvedFolder, trustedOwners: trustedOwners) {
                entry.problems.append(Diagnostic(.error, file: manifestPath, problem))
                catalog.entries.append(entry)
                continue
            }
            do {
                let file = try YAMLFile(path: manifestPath)
                let parsed = PluginManifest.parse(file)
                entry.problems += parsed.diagnostics
                if let manifest = parsed.manifest {
                    entry.name = manifest.name
                    let nameLocation = file.root?["name"].map(file.location(of:)) ?? file.start
                    if builtInNames.contains(manifest.name) {
                        entry.problems.append(.error(nameLocation, "'\(manifest.name)' is a built-in plugin; choose another name"))
                    } else if let other = catalog.entries.first(where: { $0.name == manifest.name }) {
                        entry.problems.append(.error(nameLocation, "plugin name '\(manifest.name)' is also used by \(other.directory)"))
                    } else {
                        let executable = (folder as NSString).appendingPathComponent(manifest.executable)
                        let location = file.root?["executable"].map(file.location(of:)) ?? file.start
                        if let problem = unsafe(executable, inside: resolvedFolder, trustedOwners: trustedOwners, executable: true) {
                            entry.problems.append(.error(location, problem))
                        } else {
                            entry.executablePath = realPath(executable)
                        }
                    }
                    if entry.problems.allSatisfy({ $0.severity != .error }) { entry.manifest = manifest }
                }
            } catch {
                entry.problems.append(error)
            }
            entry.problems = entry.problems.sortedByPosition()
            catalog.entries.append(entry)
        }
        return catalog
    }

    /// Why a file may not be used, or nil.
    static func unsafe(_ path: String, inside folder: String, trustedOwners: Set<UInt32>, executable: Bool = false) -> String? {
        guard let resolved = realPath(path) else {
            return "\(path) does not exist"
        }
        guard isInside(resolved, folder) else {
            return "\(path) resolves to \(resolved), outside the plugin's folder \(folder); refused"
        }
        var info = stat()
        guard stat(resolved, &info) == 0 else {
            return "\(path): stat: \(String(cString: strerror(errno)))"
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return "\(path) is not a regular file" }
        guard trustedOwners.contains(UInt32(info.st_uid)) else {
            return "\(path) is owned by uid \(info.st_uid); a plugin's files must be owned by root or the daemon's user (uid \(geteuid())); refused"
        }
        if info.st_mode & (S_IWGRP | S_IWOTH) != 0 {
            return "\(path) is group- or world-writable (mode \(String(info.st_mode & 0o7777, radix: 8))); anyone could change what the daemon runs; refused (chmod go-w)"
        }
        if executable, info.st_mode & S_IXUSR == 0 {
            return "\(path) is not executable (chmod +x)"
        }
        return nil
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func isInside(_ path: String, _ folder: String) -> Bool {
        path == folder || path.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/")
    }

    /// The registry of step types: `base` plus every external step plugin. A plugin that
    /// cannot be used stays known by name, so its steps fail with its problem rather than as
    /// an unknown plugin; a notifier named in `uses:` is refused with the right place to name it.
    public func registry(over base: StepPluginRegistry = .builtIn) -> StepPluginRegistry {
        var registry = base
        for entry in entries where base[entry.name] == nil {
            if entry.isUsable, let manifest = entry.manifest {
                if manifest.kind == .step {
                    registry.register(StepInputSchema(name: manifest.name, json: manifest.inputSchema))
                } else {
                    registry.register(UnusablePlugin(name: manifest.name, reason: "'\(manifest.name)' is a notifier plugin; name it in a step's notify:, not in uses:"))
                    registry.notifiers.insert(manifest.name)
                }
            } else {
                let errors = entry.problems.filter { $0.severity == .error }
                let first = errors.first.map { ($0.location?.description ?? $0.file) + ": " + $0.message } ?? "it cannot be loaded"
                let more = errors.count > 1 ? " (and \(errors.count - 1) more; see huaying plugins)" : ""
                registry.register(UnusablePlugin(name: entry.name, reason: "plugin '\(entry.name)' cannot be used: \(first)\(more)"))
            }
        }
        return registry
    }
}

/// A plugin known by name that no step may use (a broken manifest, a notifier).
struct UnusablePlugin: StepInputValidator {
    let name: String
    let reason: String

    func validate(_ input: YAMLValue?, check: inout StepInputCheck) {
        check.error(check.usesLocation, reason)
    }
}

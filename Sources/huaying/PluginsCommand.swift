import ArgumentParser
import ControlProtocol
import Foundation
import WorkflowModel

/// `huaying plugins`: the step plugins built in and those in the configured plugins folder,
/// with each external plugin's problems (offline: the same reading the daemon does).
struct Plugins: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Message.abstractPlugins(),
        discussion: """
            An external plugin is a folder in paths.plugins holding plugin.yaml and its executable \
            (docs/plugins.md). A broken manifest or an unsafe executable (not owned by root or \
            the daemon's user, group- or world-writable, or outside the folder) is listed with \
            the reason; steps using it fail lint. Exits 1 when any external plugin is unusable.
            """
    )

    @OptionGroup var globals: GlobalOptions

    @Flag(name: .long, help: "Print the plugins as JSON.")
    var json = false

    struct Output: Encodable {
        struct Plugin: Encodable {
            var name: String
            var kind: String
            var version: String?
            /// `built-in`, or the plugin's folder.
            var source: String
            var executable: String?
            var `protocol`: Int?
            var timeoutSeconds: Double?
            var maxAttempts: Int?
            var concurrency: Int?
            var sideEffects: String?
            var usable: Bool
            var problems: [String]

            enum CodingKeys: String, CodingKey {
                case name, kind, version, source, executable, `protocol`, usable, problems
                case timeoutSeconds = "timeout_seconds", maxAttempts = "max_attempts", concurrency, sideEffects = "side_effects"
            }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(name, forKey: .name)
                try container.encode(kind, forKey: .kind)
                try container.encode(version, forKey: .version)
                try container.encode(source, forKey: .source)
                try container.encode(executable, forKey: .executable)
                try container.encode(`protocol`, forKey: .protocol)
                try container.encode(timeoutSeconds, forKey: .timeoutSeconds)
                try container.encode(maxAttempts, forKey: .maxAttempts)
                try container.encode(concurrency, forKey: .concurrency)
                try container.encode(sideEffects, forKey: .sideEffects)
                try container.encode(usable, forKey: .usable)
                try container.encode(problems, forKey: .problems)
            }
        }

        var directory: String
        var plugins: [Plugin]
    }

    func run() throws {
        let config = try globals.loadConfig()
        let catalog = PluginCatalog.load(directory: config.pluginsDirectory)
        var plugins = StepPluginRegistry.builtIn.names.map {
            Output.Plugin(name: $0, kind: "step", version: nil, source: "built-in", executable: nil, protocol: nil, timeoutSeconds: nil,
                          maxAttempts: nil, concurrency: nil, sideEffects: nil, usable: true, problems: [])
        }
        for entry in catalog.entries {
            let manifest = entry.manifest
            plugins.append(Output.Plugin(
                name: entry.name, kind: manifest?.kind.rawValue ?? "?", version: manifest?.version,
                source: OfflineOutput.shortPath(entry.directory), executable: entry.executablePath.map(OfflineOutput.shortPath),
                protocol: manifest?.protocolVersion, timeoutSeconds: manifest?.timeoutSeconds, maxAttempts: manifest?.maxAttempts,
                concurrency: manifest?.concurrency, sideEffects: manifest?.sideEffects.rawValue, usable: entry.isUsable,
                problems: entry.problems.map { OfflineOutput.text(of: $0) }))
        }
        if json {
            try printJSON(Output(directory: OfflineOutput.shortPath(config.pluginsDirectory), plugins: plugins))
        } else {
            var rows = [["name", "version", "kind", "protocol", "source", "status"]]
            for plugin in plugins {
                rows.append([plugin.name, plugin.version ?? "-", plugin.kind, plugin.protocol.map(String.init) ?? "-", plugin.source,
                             plugin.usable ? "ok" : "unusable"])
            }
            var text = TextFormatting.table(rows) + "\n"
            for plugin in plugins where !plugin.problems.isEmpty {
                text += "\n\(plugin.name):\n" + plugin.problems.map { "  \($0)\n" }.joined()
            }
            if catalog.entries.isEmpty { text += "(no external plugins in \(OfflineOutput.shortPath(config.pluginsDirectory)))\n" }
            // A problem quotes what the manifest says: terminal-safe, as every line of human output.
            FileHandle.standardOutput.write(Data(ControlCharacters.terminalSafe(text).utf8))
        }
        if catalog.entries.contains(where: { !$0.isUsable }) { throw ExitCode(ExitStatus.failed) }
    }
}

import Foundation
import WorkflowModel

/// The language of the CLI's human output. `--json` never changes with it.
enum Language: String, Sendable, CaseIterable {
    case zh, en

    /// The language of this run, decided once, before the arguments are parsed (so `--help`
    /// speaks it too): ``resolve(environment:configured:)`` with the config named by
    /// `--config`, `$HUAYING_CONFIG` or the default path.
    static let current: Language = resolve(environment: ProcessInfo.processInfo.environment,
                                           configured: configuredLanguage(arguments: CommandLine.arguments))

    /// A locale that names a language decides: `LC_ALL`, else `LC_MESSAGES`, else `LANG`
    /// (`zh_CN.UTF-8` → Chinese, `en_US.UTF-8` → English). A locale that names none
    /// (`C`, `C.UTF-8`, `POSIX`, unset) leaves it to the config's `ui.language`, else English.
    static func resolve(environment: [String: String], configured: Language?) -> Language {
        for name in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            guard let value = environment[name], !value.isEmpty else { continue }
            let language = value.prefix { $0 != "_" && $0 != "." && $0 != "@" }.lowercased()
            if language == "c" || language == "posix" { break }
            return language == "zh" ? .zh : .en
        }
        return configured ?? .en
    }

    /// The config's `ui.language`, when the config can be read. A broken config is not
    /// reported here: the command that needs it loads it again and reports every problem.
    static func configuredLanguage(arguments: [String]) -> Language? {
        var path: String?
        for (index, argument) in arguments.enumerated() {
            if argument == "--config", index + 1 < arguments.count { path = arguments[index + 1] }
            if argument.hasPrefix("--config=") { path = String(argument.dropFirst("--config=".count)) }
            if argument == "--" { break }
        }
        let file = path ?? HuayingConfig.defaultPath()
        guard FileManager.default.isReadableFile(atPath: file) else { return nil }
        do {
            return try HuayingConfig.load(path: file).uiLanguage.flatMap { Language(rawValue: $0.rawValue) }
        } catch {
            return nil
        }
    }
}

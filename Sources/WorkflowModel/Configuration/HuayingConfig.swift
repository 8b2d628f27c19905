import Foundation

/// The daemon's configuration file (`etc/huaying.yaml` in a checkout,
/// `/etc/huaying/huaying.yaml` when installed).
///
/// Relative paths in the file are resolved against the directory that holds the file, so a
/// config works the same whatever the current directory is.
///
/// ```yaml
/// paths:
///   state_dir: ../var/state          # state.db and the lock file
///   socket: ../var/run/huaying.sock  # the control socket
///   workflows: ../workflows
///   plugins: ../plugins
///   staff: staff.yaml
///   calendars: calendars
///   secrets: /etc/huaying/secrets.yaml   # chat robots' keys (mode 0600); this is the default
/// time_zone: Asia/Shanghai
/// log_level: info                    # trace, debug, info, notice, warning, error, critical
/// sqlite:
///   synchronous: full                # off, normal, full, extra
/// access:
///   admin_group: huaying-admin       # members (and root) are admins
///   socket_group: huaying            # the control socket's group (mode 0660)
/// ledger:
///   hmac_key_file: ledger.key        # optional: chain the ledger with HMAC-SHA256 (mode 0600)
/// notifications:                     # chat notifiers (NotificationSettings); these are the defaults
///   quiet_hours: "21:00-08:00"
///   quiet_on_days_off: true
///   digest_window: 60 seconds
/// ui:
///   language: zh                     # the CLI's human output: zh or en (a zh_*/en_* locale wins)
/// ```
public struct HuayingConfig: Sendable, Equatable {
    public enum LogLevel: String, Sendable, CaseIterable {
        case trace, debug, info, notice, warning, error, critical
    }

    public enum SQLiteSynchronous: String, Sendable, CaseIterable {
        case off, normal, full, extra
    }

    /// The file this configuration came from (absolute).
    public var file: String
    public var stateDirectory: String
    public var socketPath: String
    public var workflowsDirectory: String
    public var pluginsDirectory: String
    public var staffFile: String
    public var calendarsDirectory: String
    public var timeZone: TimeZone
    public var logLevel: LogLevel
    public var sqliteSynchronous: SQLiteSynchronous
    /// Members of this Unix group are admins, as root is (nil: root only).
    public var adminGroup: String?
    /// The control socket is given this group, so its members (staff) can connect (nil: keep the daemon's).
    public var socketGroup: String?
    /// The ledger's HMAC key file (`ledger.hmac_key_file`; nil: a plain sha256 chain).
    public var ledgerKeyFile: String?
    /// The chat robots' secrets (`paths.secrets`; default `/etc/huaying/secrets.yaml`).
    public var secretsFile: String = SecretsFile.defaultPath
    /// Quiet hours and the digest window for chat notifications (`notifications:`).
    public var notifications: NotificationSettings = .default

    /// The language of the CLI's human output (`ui.language`; nil: from the locale, else English).
    public var uiLanguage: UILanguage? = nil

    /// The languages the CLI speaks (`ui.language`).
    public enum UILanguage: String, Sendable, CaseIterable {
        case zh, en
    }

    /// The database file inside the state directory.
    public var databasePath: String { (stateDirectory as NSString).appendingPathComponent("state.db") }
    /// The lock file that keeps a second daemon off the same state directory.
    public var lockPath: String { (stateDirectory as NSString).appendingPathComponent("huayingd.lock") }
    /// The ledger's head kept outside the database (LedgerAnchor in WorkflowEngine).
    public var ledgerAnchorPath: String { (stateDirectory as NSString).appendingPathComponent("ledger-head.json") }

    /// Where the daemon and the CLI look when no `--config` is given: `$HUAYING_CONFIG`,
    /// then `etc/huaying.yaml` under the current directory (a checkout), then `/etc/huaying/huaying.yaml`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let path = environment["HUAYING_CONFIG"], !path.isEmpty { return path }
        let local = "etc/huaying.yaml"
        if FileManager.default.fileExists(atPath: local) { return local }
        return "/etc/huaying/huaying.yaml"
    }

    /// Loads and validates a configuration file.
    /// - Throws: `DiagnosticsError` with every problem found, each naming the key and `file:line:col`.
    public static func load(path: String) throws(DiagnosticsError) -> HuayingConfig {
        let absolute = Self.absolute(path, relativeTo: FileManager.default.currentDirectoryPath)
        let file: YAMLFile
        do {
            file = try YAMLFile(path: path)
        } catch {
            throw DiagnosticsError([error])
        }
        return try parse(file, absolutePath: absolute)
    }

    /// Parses configuration text (for tests and `--check-config`).
    public static func parse(_ file: YAMLFile, absolutePath: String) throws(DiagnosticsError) -> HuayingConfig {
        var diagnostics: [Diagnostic] = []
        guard let root = file.root else {
            throw DiagnosticsError([.error(file.start, "the config file is empty; expected keys: paths, time_zone, log_level, sqlite, access, ledger, notifications, ui")])
        }
        guard var top = MappingReader(root, in: file, what: "the config file", diagnostics: &diagnostics) else {
            throw DiagnosticsError(diagnostics)
        }
        let base = (absolutePath as NSString).deletingLastPathComponent
        func resolve(_ value: String?, _ fallback: String) -> String {
            absolute(value ?? fallback, relativeTo: base)
        }

        var paths: [String: String] = [:]
        if var reader = top.mapping("paths", required: true) {
            for key in ["state_dir", "socket", "workflows", "plugins", "staff", "calendars", "secrets"] {
                if let value = reader.string(key, required: key != "plugins" && key != "secrets") {
                    if value.isEmpty, let node = reader.value(key) {
                        reader.report(.error, at: node, "'paths.\(key)' must not be empty")
                    }
                    paths[key] = value
                }
            }
            diagnostics += reader.finish()
        }

        var timeZone = TimeZone(identifier: "Asia/Shanghai")!
        if let name = top.string("time_zone"), let node = top.value("time_zone") {
            if let zone = TimeZone(identifier: name) {
                timeZone = zone
            } else {
                top.report(.error, at: node, "'time_zone' is not a known time zone: '\(name)'; expected an IANA name such as Asia/Shanghai")
            }
        }
        let logLevel = top.choice("log_level", from: LogLevel.allCases.map(\.rawValue)).flatMap(LogLevel.init(rawValue:)) ?? .info
        var synchronous = SQLiteSynchronous.full
        if var sqlite = top.mapping("sqlite") {
            if let value = sqlite.choice("synchronous", from: SQLiteSynchronous.allCases.map(\.rawValue)) {
                synchronous = SQLiteSynchronous(rawValue: value) ?? .full
            }
            diagnostics += sqlite.finish()
        }
        var adminGroup: String?
        var socketGroup: String?
        if var access = top.mapping("access") {
            adminGroup = access.string("admin_group")
            socketGroup = access.string("socket_group")
            diagnostics += access.finish()
        }
        var ledgerKeyFile: String?
        if var ledger = top.mapping("ledger") {
            if let value = ledger.string("hmac_key_file") {
                if value.isEmpty, let node = ledger.value("hmac_key_file") {
                    ledger.report(.error, at: node, "'ledger.hmac_key_file' must not be empty; remove the key for a plain sha256 chain")
                }
                ledgerKeyFile = value
            }
            diagnostics += ledger.finish()
        }
        var notifications = NotificationSettings.default
        if var section = top.mapping("notifications") {
            notifications = NotificationSettings.read(&section)
            diagnostics += section.finish()
        }
        var uiLanguage: UILanguage?
        if var ui = top.mapping("ui") {
            uiLanguage = ui.choice("language", from: UILanguage.allCases.map(\.rawValue)).flatMap(UILanguage.init(rawValue:))
            diagnostics += ui.finish()
        }
        diagnostics = top.finish() + diagnostics
        let errors = diagnostics.filter { $0.severity == .error }
        guard errors.isEmpty else {
            throw DiagnosticsError(diagnostics.sorted { ($0.line ?? 0, $0.column ?? 0) < ($1.line ?? 0, $1.column ?? 0) })
        }
        var config = HuayingConfig(
            file: absolutePath,
            stateDirectory: resolve(paths["state_dir"], "state"),
            socketPath: resolve(paths["socket"], "huaying.sock"),
            workflowsDirectory: resolve(paths["workflows"], "workflows"),
            pluginsDirectory: resolve(paths["plugins"], "plugins"),
            staffFile: resolve(paths["staff"], "staff.yaml"),
            calendarsDirectory: resolve(paths["calendars"], "calendars"),
            timeZone: timeZone,
            logLevel: logLevel,
            sqliteSynchronous: synchronous,
            adminGroup: adminGroup.flatMap { $0.isEmpty ? nil : $0 },
            socketGroup: socketGroup.flatMap { $0.isEmpty ? nil : $0 },
            ledgerKeyFile: ledgerKeyFile.map { resolve($0, $0) }
        )
        config.secretsFile = paths["secrets"].map { resolve($0, $0) } ?? SecretsFile.defaultPath
        config.notifications = notifications
        config.uiLanguage = uiLanguage
        return config
    }

    /// `path` made absolute against `base`, with `.` and `..` removed.
    public static func absolute(_ path: String, relativeTo base: String) -> String {
        let joined = path.hasPrefix("/") ? path : (base as NSString).appendingPathComponent(path)
        return URL(fileURLWithPath: joined).standardizedFileURL.path
    }
}

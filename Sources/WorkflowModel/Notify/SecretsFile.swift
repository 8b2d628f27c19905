import Foundation
import Yams

/// The chat robots' secrets, kept out of `staff.yaml` so the org chart can be shared:
/// `/etc/huaying/secrets.yaml` by default (`paths.secrets` in the config), mode 0600, owned by
/// root or the daemon's user.
///
/// ```yaml
/// robots:
///   guqiao-wecom:                 # the name staff.yaml's notify: uses
///     plugin: wecom               # the notifier plugin that sends to it
///     env:                        # what that plugin is given (only names its manifest lists)
///       HUAYING_WECOM_KEY: 693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa
///   lushi-dingtalk:
///     plugin: dingtalk
///     env:
///       HUAYING_DINGTALK_ACCESS_TOKEN: 1d8c…
///       HUAYING_DINGTALK_SECRET: SEC1a2b…
/// ```
///
/// No message ever shows a value from `env`.
public enum SecretsFile {
    /// Where the secrets are when the config does not say (`paths.secrets`).
    public static let defaultPath = "/etc/huaying/secrets.yaml"

    /// Why the file's permissions are refused.
    public enum PermissionProblem: Error, Equatable, Sendable, CustomStringConvertible {
        /// Group or others may read or write it (the mode, e.g. 0o644).
        case openToGroupOrOthers(path: String, mode: UInt32)
        /// Owned by someone other than root or the daemon's user.
        case wrongOwner(path: String, uid: UInt32)
        /// Not a regular file (a directory, a device, …).
        case notARegularFile(path: String)

        public var description: String {
            switch self {
            case let .openToGroupOrOthers(path, mode):
                return "secrets file is open to group or others (mode \(Self.octal(mode))); expected mode 0600: chmod 600 \(path)"
            case let .wrongOwner(path, uid):
                return "secrets file is owned by uid \(uid); expected root or the daemon's user: chown root \(path)"
            case .notARegularFile:
                return "secrets file is not a regular file; expected a YAML file with mode 0600"
            }
        }

        static func octal(_ mode: UInt32) -> String {
            let digits = String(mode & 0o7777, radix: 8)
            return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        }
    }

    /// The permission problem of the file at `path`, or nil when it is owner-only (0600 or
    /// 0400) and owned by one of `allowedOwners` (root and the daemon's user).
    /// - Throws: `Diagnostic` when it cannot be examined (naming the errno).
    public static func permissionProblem(path: String, allowedOwners: Set<UInt32>) throws(Diagnostic) -> PermissionProblem? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw Diagnostic(.error, file: path, "cannot read the secrets file: \(String(cString: strerror(errno)))")
        }
        guard (UInt32(info.st_mode) & UInt32(S_IFMT)) == UInt32(S_IFREG) else { return .notARegularFile(path: path) }
        if UInt32(info.st_mode) & 0o077 != 0 { return .openToGroupOrOthers(path: path, mode: UInt32(info.st_mode)) }
        if !allowedOwners.contains(UInt32(info.st_uid)) { return .wrongOwner(path: path, uid: UInt32(info.st_uid)) }
        return nil
    }

    /// Root and the user this process runs as.
    public static var defaultOwners: Set<UInt32> { [0, UInt32(geteuid())] }

    /// Checks the permissions, then reads and validates the file.
    /// - Throws: `DiagnosticsError` with the permission problem (and nothing read) or every
    ///   finding of the file at `file:line:col`.
    public static func load(path: String, allowedOwners: Set<UInt32> = defaultOwners) throws(DiagnosticsError) -> NotifierSecrets {
        let problem: PermissionProblem?
        do { problem = try permissionProblem(path: path, allowedOwners: allowedOwners) } catch { throw DiagnosticsError([error]) }
        if let problem { throw DiagnosticsError([Diagnostic(.error, file: path, problem.description)]) }
        let file: YAMLFile
        do { file = try YAMLFile(path: path) } catch { throw DiagnosticsError([error]) }
        let result = check(file)
        guard let secrets = result.secrets else { throw DiagnosticsError(result.diagnostics) }
        return secrets
    }

    /// Parses and validates the file's text (no permission check: for tests and `load`).
    public static func check(_ file: YAMLFile) -> (secrets: NotifierSecrets?, diagnostics: [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        guard let root = file.root else { return (NotifierSecrets(robots: [:]), []) }
        guard var top = MappingReader(root, in: file, what: "the secrets file", diagnostics: &diagnostics) else {
            return (nil, diagnostics)
        }
        var robots: [String: NotifierSecrets.Robot] = [:]
        if let node = top.value("robots", required: true) {
            if case let .mapping(mapping) = node {
                for (key, value) in mapping {
                    let location = file.location(of: key)
                    guard let name = key.scalar?.string, RoleReference.isIdentifier(name) else {
                        diagnostics.append(.error(location, "a robot name must be ASCII letters, digits, '-' or '_' (such as guqiao-wecom)"))
                        continue
                    }
                    guard var reader = MappingReader(value, in: file, what: "robot '\(name)'", diagnostics: &diagnostics) else { continue }
                    let plugin = reader.string("plugin", required: true)
                    if let plugin, !RoleReference.isIdentifier(plugin), let pluginNode = reader.value("plugin") {
                        reader.report(.error, at: pluginNode, "'plugin' of robot '\(name)' must be the name of a notifier plugin (such as wecom or dingtalk)")
                    }
                    var environment: [String: String] = [:]
                    if let envNode = reader.value("env", required: true) {
                        if case let .mapping(variables) = envNode {
                            for (variableNode, valueNode) in variables {
                                guard let variable = variableNode.scalar?.string, isVariableName(variable) else {
                                    diagnostics.append(.error(file.location(of: variableNode), "an environment variable name must be upper-case ASCII letters, digits and '_', not starting with a digit (such as HUAYING_WECOM_KEY)"))
                                    continue
                                }
                                guard let text = valueNode.scalar?.string else {
                                    diagnostics.append(.error(file.location(of: valueNode), "the value of \(variable) in robot '\(name)' must be text, found \(valueNode.kindName)"))
                                    continue
                                }
                                if text.contains("\0") || text.contains("\n") {
                                    diagnostics.append(.error(file.location(of: valueNode), "the value of \(variable) in robot '\(name)' must be one line"))
                                    continue
                                }
                                environment[variable] = text
                            }
                        } else {
                            reader.report(.error, at: envNode, "'env' of robot '\(name)' must be a mapping from variable name to value, found \(envNode.kindName)")
                        }
                    }
                    diagnostics += reader.finish()
                    if let plugin {
                        robots[name] = NotifierSecrets.Robot(name: name, plugin: plugin, environment: environment, location: location)
                    }
                }
            } else {
                top.report(.error, at: node, "'robots' must be a mapping from robot name to its plugin and env, found \(node.kindName)")
            }
        }
        diagnostics = (top.finish() + diagnostics).sortedByPosition()
        guard !diagnostics.contains(where: { $0.severity == .error }) else { return (nil, diagnostics) }
        return (NotifierSecrets(robots: robots), diagnostics)
    }

    static func isVariableName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return text.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}

/// The robots of the secrets file, by name.
public struct NotifierSecrets: Sendable, Equatable {
    public struct Robot: Sendable, Equatable, CustomStringConvertible {
        public var name: String
        /// The notifier plugin that sends to this robot (`wecom`, `dingtalk`, …).
        public var plugin: String
        /// The variables given to the plugin (filtered by its manifest's `env`).
        public var environment: [String: String]
        public var location: SourceLocation?

        public init(name: String, plugin: String, environment: [String: String], location: SourceLocation? = nil) {
            self.name = name
            self.plugin = plugin
            self.environment = environment
            self.location = location
        }

        /// Names the robot and its variables, never their values.
        public var description: String {
            "\(name) (\(plugin); \(environment.keys.sorted().joined(separator: ", ")))"
        }
    }

    public var robots: [String: Robot]

    public init(robots: [String: Robot]) { self.robots = robots }

    /// The robot's variables that a plugin's manifest allows (`env:` of plugin.yaml).
    public func environment(of robot: String, allowed: [String]) -> [String: String] {
        guard let found = robots[robot] else { return [:] }
        return found.environment.filter { allowed.contains($0.key) }
    }

    /// A finding at each `notify:` in the org chart that names a robot this file lacks.
    public func unknownRobots(in chart: OrgChart) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        let known = robots.keys.sorted()
        for id in chart.unitOrder {
            for robot in chart.units[id]?.notify ?? [] where robots[robot.name] == nil {
                let expected = known.isEmpty ? "the secrets file has no robots" : "expected one of: \(known.joined(separator: ", "))"
                let message = "unit '\(id)' notifies robot '\(robot.name)', which the secrets file does not define; \(expected)"
                if let location = robot.location {
                    diagnostics.append(.error(location, message))
                } else {
                    diagnostics.append(Diagnostic(.error, file: chart.units[id]?.location?.file ?? "staff.yaml", message))
                }
            }
        }
        return diagnostics
    }
}

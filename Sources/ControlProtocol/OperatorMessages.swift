/// Results of the operator commands `workflows` and `reload`.

/// One workflow the daemon knows.
public struct WorkflowInfo: Codable, Equatable, Sendable {
    public var id: String
    public var title: String
    public var file: String
    /// The content hash new instances get; nil when the file was removed (running instances only).
    @NullEncoded public var currentVersion: String?
    /// Versions pinned by running instances, with how many instances each.
    public var versionsInUse: [String: Int]

    public init(id: String, title: String, file: String, currentVersion: String?, versionsInUse: [String: Int]) {
        self.id = id
        self.title = title
        self.file = file
        self.currentVersion = currentVersion
        self.versionsInUse = versionsInUse
    }

    enum CodingKeys: String, CodingKey {
        case id, title, file
        case currentVersion = "current_version"
        case versionsInUse = "versions_in_use"
    }
}

/// A file that did not load, with its findings (`path:line:col: error: …`).
public struct FileErrors: Codable, Equatable, Sendable {
    public var file: String
    public var messages: [String]
    public init(file: String, messages: [String]) {
        self.file = file
        self.messages = messages
    }
}

/// The result of `workflows`.
public struct WorkflowsResult: Codable, Equatable, Sendable {
    public var workflows: [WorkflowInfo]
    /// Workflow files whose latest content did not load (the last good version stays in force).
    public var loadErrors: [FileErrors]

    public init(workflows: [WorkflowInfo], loadErrors: [FileErrors]) {
        self.workflows = workflows
        self.loadErrors = loadErrors
    }

    enum CodingKeys: String, CodingKey {
        case workflows
        case loadErrors = "load_errors"
    }
}

/// The result of `reload` (and the last reload in `status`).
public struct ReloadResult: Codable, Equatable, Sendable {
    /// When it ran (ISO 8601) and why: `start`, `SIGHUP`, `request`, `file change`.
    public var at: String
    public var trigger: String
    public var loaded: [String]
    public var failed: [String]
    public var removed: [String]
    public var unchanged: Int
    /// Problems of the org chart or calendars; when present, the previous ones stay in force.
    public var supportErrors: [String]

    public init(at: String, trigger: String, loaded: [String], failed: [String], removed: [String], unchanged: Int, supportErrors: [String]) {
        self.at = at
        self.trigger = trigger
        self.loaded = loaded
        self.failed = failed
        self.removed = removed
        self.unchanged = unchanged
        self.supportErrors = supportErrors
    }

    enum CodingKeys: String, CodingKey {
        case at, trigger, loaded, failed, removed, unchanged
        case supportErrors = "support_errors"
    }
}

import ControlProtocol
import Foundation
import SQLiteStore
import StepPluginAPI
import WorkflowModel

/// An external plugin the engine may hand steps to (a usable entry of the plugins folder).
public struct ExternalPlugin: Sendable {
    public var manifest: PluginManifest
    public var executablePath: String

    public init(manifest: PluginManifest, executablePath: String) {
        self.manifest = manifest
        self.executablePath = executablePath
    }
}

/// What one attempt of an external plugin came back with (`docs/plugins.md`).
public enum PluginResult: Sendable, Equatable {
    /// The effect happened; `output` is available to later steps as `{{steps.ID.output.KEY}}`.
    case completed(output: [String: String])
    /// Try again: after `afterSeconds` (nil: the manifest's backoff), for `reason`. Crashes,
    /// timeouts and unreadable output are retries too.
    case retry(afterSeconds: Double?, reason: String)
    /// Give up now: the step fails with `reason`.
    case failed(reason: String)
}

/// One attempt to hand to a plugin, claimed from the outbox.
public struct OutboxAttempt: Sendable {
    public var id: Int64
    public var plugin: String
    public var idempotencyKey: String
    public var attempt: Int
    public var instance: Int64
    public var step: String
    /// The request written to the plugin's stdin: one JSON object.
    public var request: [UInt8]
    /// For a notification: its robot's variables (instead of the daemon's environment).
    public var environment: [String: String]? = nil
}

/// The engine's side of the outbox: the external plugins it knows, who the admins are, and
/// what a delivery runner is told.
///
/// - Important: Loop thread only.
final class OutboxState {
    /// The schemas of the plugins compiled in (the registry external ones are added to).
    let compiledIn: StepPluginRegistry
    var plugins: [String: ExternalPlugin] = [:]
    /// Who gets a reminder when a plugin step fails for good.
    var adminUsers: [String] = ["root"]
    /// Attempts that did not complete since the engine opened.
    var failedAttempts = 0
    /// Called after a commit that may have made outbox rows due (the runner looks again).
    var onChange: (() -> Void)?
    /// The chat robots' secrets (nil: no chat notifications) and the quiet hours.
    var secrets: NotifierSecrets?
    var notificationSettings = NotificationSettings.default
    /// The earliest pending row's due instant (ms), as last read; nil when none. Re-read after
    /// any commit that changed the outbox, so a simulated clock's slices cost no query.
    var earliestPending: Int64?
    var earliestKnown = false

    init(compiledIn: StepPluginRegistry) {
        self.compiledIn = compiledIn
    }
}

/// A row to insert with the transition that causes it.
struct OutboxInsert {
    var plugin: String
    var instance: Int64
    var step: String
    var key: String
    var request: String
    var nextAt: Int64
    var maxAttempts: Int
}

extension EngineSchema {
    /// `0104-outbox`: external effects written with the transition that causes them.
    static func registerOutbox(in migrator: inout Migrator) {
        migrator.register("0104-outbox") { db in
            try db.execute("""
                -- One row per external effect (an exec step, a notification), written in the same
                -- transaction as the transition that causes it; it stays until its result commits.
                CREATE TABLE outbox (
                    id INTEGER PRIMARY KEY,
                    kind TEXT NOT NULL CHECK (kind IN ('step', 'notify')),
                    plugin TEXT NOT NULL,
                    -- No foreign key: the row is written before the instance's own rows in its transaction.
                    instance INTEGER NOT NULL,
                    step TEXT NOT NULL,
                    reminder INTEGER,                       -- notify rows: the reminder, and the robot it goes to
                    robot TEXT,
                    batch INTEGER,                          -- notify rows sent in one digest: the leading row's id
                    idempotency_key TEXT NOT NULL UNIQUE,   -- the same on every retry of the effect
                    request TEXT NOT NULL,                  -- JSON, without attempt and idempotency_key
                    state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed', 'cancelled')),
                    attempts INTEGER NOT NULL DEFAULT 0,
                    max_attempts INTEGER NOT NULL,
                    next_at INTEGER NOT NULL,
                    created_at INTEGER NOT NULL,
                    started_at INTEGER,
                    finished_at INTEGER,
                    last_error TEXT,
                    output TEXT
                );
                CREATE INDEX outbox_waiting ON outbox(next_at) WHERE state IN ('pending', 'running');
                -- An external plugin's output, for {{steps.<id>.output.<key>}}.
                ALTER TABLE step ADD COLUMN output TEXT;
                """)
        }
    }
}

extension WorkflowEngine {
    /// The validators of the plugins an engine is given: a built-in name keeps its declared
    /// schema unless the plugin given under that name declares its own.
    static func registry(of plugins: [any StepPlugin]) -> StepPluginRegistry {
        var registry = StepPluginRegistry.builtIn
        for plugin in plugins {
            let schema = plugin.inputSchema
            if registry[plugin.name] != nil, schema.json == .anything, schema.fields.isEmpty { continue }
            registry.register(schema)
        }
        return registry
    }

    /// Takes the plugins folder's external plugins: their schemas check workflow files from the
    /// next reload on (every file is checked again), and steps naming them go to the outbox.
    public func useExternalPlugins(_ catalog: PluginCatalog) {
        var plugins: [String: ExternalPlugin] = [:]
        for entry in catalog.entries where entry.isUsable {
            guard let manifest = entry.manifest, let path = entry.executablePath else { continue }
            plugins[manifest.name] = ExternalPlugin(manifest: manifest, executablePath: path)
        }
        outbox.plugins = plugins
        registry.checker.plugins = catalog.registry(over: outbox.compiledIn)
        registry.forgetSeenFiles()
    }

    /// The external plugins in use, by name.
    public var externalPlugins: [String: ExternalPlugin] { outbox.plugins }

    /// Who gets a reminder in their inbox when a plugin step fails for good (default: root).
    public var adminUsers: [String] {
        get { outbox.adminUsers }
        set { outbox.adminUsers = newValue.isEmpty ? ["root"] : newValue }
    }

    /// Called on the loop thread after a commit that may have made outbox rows due.
    public var onOutboxChange: (() -> Void)? {
        get { outbox.onChange }
        set { outbox.onChange = newValue }
    }

    /// Attempts that did not complete since the engine opened (`status`: `plugin_failures`).
    public var pluginFailures: Int { outbox.failedAttempts }

    // MARK: - Handing a step over (inside a unit of work)

    /// Hands a due step to an external plugin: `pending → due` and an outbox row carrying the
    /// rendered request, in the same unit of work. Nothing runs before the commit.
    func hand(_ stepID: String, of instance: inout InstanceState, row: InstanceState.Step, definition: StepDefinition,
              context: InstanceContext, due: Date, deadline: Date?, plugin: ExternalPlugin, in work: UnitOfWork, now: Date) {
        var row = row
        row.state = StepStateMachine.next(row.state, on: .hand)
        instance.steps[stepID] = row
        let key = "\(instance.id)/\(stepID)/\(row.attempts)"
        let input = definition.with.map(context.render)
        var unit: Any = NSNull()
        if let unitID = instance.unit {
            let known = support.orgChart?.units[unitID]
            unit = ["id": unitID, "name": known?.name ?? unitID, "kind": known?.kind.rawValue ?? ""]
        }
        let request: [String: Any] = [
            "protocol": 1,
            "plugin": plugin.manifest.name,
            "instance": ["id": instance.id, "workflow": instance.workflow, "version": instance.version, "unit": unit],
            "step": ["id": stepID, "title": definition.title, "due": Self.iso8601(due, support.timeZone),
                     "deadline": deadline.map { Self.iso8601($0, support.timeZone) } ?? NSNull()],
            "with": input.map { PluginJSON.value($0, schema: plugin.manifest.inputSchema) } ?? [String: Any](),
        ]
        work.outboxInserts.append(OutboxInsert(
            plugin: plugin.manifest.name, instance: instance.id, step: stepID, key: key, request: PluginJSON.text(request),
            nextAt: Millis.from(now), maxAttempts: plugin.manifest.maxAttempts))
        work.record(at: now, instance: instance.id, step: stepID, .stepHanded, "已交由插件\(plugin.manifest.name)执行",
                    fields: ["plugin": plugin.manifest.name, "idempotency_key": key])
    }

    /// Writes the rows a unit of work staged (inside its transaction).
    func writeOutbox(_ work: UnitOfWork) throws {
        try stageNotifications(work)
        for row in work.outboxInserts {
            try db.execute("""
                INSERT INTO outbox (kind, plugin, instance, step, idempotency_key, request, state, attempts, max_attempts, next_at, created_at)
                VALUES (\(OutboxRowKind.step.sql), ?, ?, ?, ?, ?, \(OutboxRowState.pending.sql), 0, ?, ?, ?)
                """, [.text(row.plugin), .integer(row.instance), .text(row.step), .text(row.key), .text(row.request),
                      .integer(Int64(row.maxAttempts)), .integer(row.nextAt), .integer(Millis.from(clock.now))])
        }
    }

    /// After a commit: tells the runner when rows were added or changed, and after every
    /// commit on a simulated clock (which moves only through commands, so a retry's `next_at`
    /// is noticed when a `clock` move reaches it).
    func outboxCommitted(_ work: UnitOfWork) {
        if !work.outboxInserts.isEmpty || work.outboxTouched {
            outbox.earliestKnown = false
            outbox.onChange?()
            return
        }
        guard !(clock is RealClock), outbox.onChange != nil else { return }
        if !outbox.earliestKnown {
            do {
                outbox.earliestPending = try nextOutboxDue().map(Millis.from)
                outbox.earliestKnown = true
            } catch {
                // Unknown, so look: the runner reads the outbox itself, logs what fails and
                // tries again; the earliest row is read again after the next commit.
                outbox.onChange?()
                return
            }
        }
        if let earliest = outbox.earliestPending, Millis.from(clock.now) >= earliest { outbox.onChange?() }
    }

    static func iso8601(_ date: Date, _ zone: TimeZone) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = zone
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

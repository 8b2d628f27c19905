import Foundation
import Logging
import Escalate
import Record
import Remind
import SQLiteStore
import Testing
import WorkflowEngine
import WorkflowModel

/// The checkout's etc/ (calendars and the example org chart).
enum Checkout {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var etc: String { root.appendingPathComponent("etc").path }
    static var workflows: String { root.appendingPathComponent("workflows").path }
}

let shanghai = TimeZone(identifier: "Asia/Shanghai")!

/// An instant written as local Shanghai time, e.g. "2026-11-02T09:00".
func local(_ text: String) -> Date {
    guard let value = LocalDateTime(text) else { fatalError("bad test time \(text)") }
    return value.instant(in: shanghai)
}

/// An engine on a temporary database, the shipped calendar and org chart, and a simulated clock.
final class EngineHarness {
    let directory: URL
    let db: Database
    let clock: SimulatedClock
    var engine: WorkflowEngine
    let support: EngineSupport
    let workflows: [String: String]

    /// - Parameter staff: the text of an org chart to use instead of the checkout's.
    init(start: String = "2026-11-02T09:00", workflows: [String: String] = [:], staff: String? = nil) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("engine-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        db = try Database(path: directory.appendingPathComponent("state.db").path, options: DatabaseOptions(synchronous: .normal))
        var migrator = Migrator()
        EngineSchema.register(in: &migrator)
        try migrator.migrate(db)
        clock = SimulatedClock(start: local(start))
        let calendars = CalendarLibrary.load(directory: Checkout.etc + "/calendars")
        var staffPath = Checkout.etc + "/staff.yaml"
        if let staff {
            staffPath = directory.appendingPathComponent("staff.yaml").path
            try staff.write(toFile: staffPath, atomically: true, encoding: .utf8)
        }
        let chart = try OrgChartFile.load(path: staffPath)
        support = EngineSupport(calendars: calendars.library, orgChart: chart, timeZone: shanghai)
        engine = try Self.makeEngine(db: db, clock: clock, support: support)
        self.workflows = workflows
        for (name, text) in workflows {
            try engine.registerDefinition(path: directory.appendingPathComponent(name).path, text: text)
        }
    }

    static func makeEngine(db: Database, clock: SimulatedClock, support: EngineSupport) throws -> WorkflowEngine {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return try WorkflowEngine(db: db, clock: clock, support: support,
                                  plugins: [RecordPlugin(), RemindPlugin(), EscalatePlugin()], logger: logger)
    }

    /// A new engine on the same database, as after a daemon restart (which loads the
    /// workflow files again).
    func restart() throws {
        engine = try Self.makeEngine(db: db, clock: clock, support: support)
        for (name, text) in workflows {
            try engine.registerDefinition(path: directory.appendingPathComponent(name).path, text: text)
        }
    }

    func advance(to text: String) throws {
        _ = try engine.advanceSimulatedClock(to: local(text))
    }

    /// Ledger events of an instance, as "event step" strings.
    func events(_ instance: Int64) throws -> [String] {
        try engine.audit(instance: instance).map { "\($0.event) \($0.step ?? "-")" }
    }

    func stepState(_ instance: Int64, _ step: String) throws -> String? {
        try engine.instance(instance).steps.first { $0.id == step }?.state
    }

    deinit {
        try? db.close()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A small workflow: a reminder with repeats and a two-level escalation, then a record.
let noticeWorkflow = """
    workflow: notice
    title: 测试通知
    params:
      unit: { type: unit, title: 社区 }
      meeting_day: { type: date, title: 会议日 }
    calendar: cn-mainland
    default_time: "09:00"
    steps:
      - id: notify
        title: 发出会议通知
        at: meeting_day - 10 days
        uses: remind
        with:
          to: secretary@unit
          message: "{{unit.name}}：请在{{meeting_day - 10 days}}前发出会议通知（会议日{{meeting_day}}）。"
        ack:
          within: 2 days
          repeat: 1 day
          escalate:
            uses: escalate
            with: { chain: [civil-affairs@township, civil-affairs@county], every: 1 day }
      - id: notified
        title: 记录：通知已发出
        after: notify
        uses: record
        with:
          text: "通知已发出，确认人{{steps.notify.acked_by}}"
          fields: { note: "{{steps.notify.note}}" }
    """

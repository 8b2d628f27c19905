import ControlProtocol
import EventLoop
import Foundation
import Logging
import Record
import SQLiteStore
import Testing
import WorkflowEngine
import WorkflowModel

/// The real-clock path, which the simulated-clock tests never take: the engine arms a libuv
/// timer for the exact next due instant (milliseconds, no rounding), the step runs when the
/// timer fires and not before, and nothing runs twice. These tests wait for real timers, so
/// they are kept short (due times a few hundred milliseconds ahead).
@Suite(.serialized) struct RealClockTimerTests {
    static let workflow = """
        workflow: timed
        title: 定时记录
        params:
          unit: { type: unit, title: 社区 }
          first: { type: datetime, title: 第一次 }
          second: { type: datetime, title: 第二次 }
        calendar: cn-mainland
        steps:
          - id: one
            title: 第一次记录
            at: first
            uses: record
            with: { text: "一" }
          - id: two
            title: 第二次记录
            at: second
            uses: record
            with: { text: "二" }
        """

    @Test func stepsRunWhenTheirTimerFiresAtTheMillisecondNotBeforeAndOnce() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("real-clock-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = try Database(path: directory.appendingPathComponent("state.db").path, options: DatabaseOptions(synchronous: .normal))
        defer { try? db.close() }
        var migrator = Migrator()
        EngineSchema.register(in: &migrator)
        try migrator.migrate(db)
        let calendars = CalendarLibrary.load(directory: Checkout.etc + "/calendars")
        let support = EngineSupport(calendars: calendars.library, orgChart: try OrgChartFile.load(path: Checkout.etc + "/staff.yaml"), timeZone: shanghai)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let engine = try WorkflowEngine(db: db, clock: RealClock(), support: support, plugins: [RecordPlugin()], logger: logger)
        try engine.registerDefinition(path: directory.appendingPathComponent("timed.yaml").path, text: Self.workflow)

        // Due instants with a millisecond part, 400 ms and 700 ms ahead.
        let first = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded() / 1000 + 0.4) + 0.017
        let second = first + 0.3
        let text = { (instant: Date) in LocalDateTime(instant, in: shanghai).description + "+08:00" }
        #expect(text(first).contains("."), "the due time carries milliseconds: \(text(first))")
        let id = try engine.start(workflow: "timed", params: ["unit": "guqiao-shequ", "first": text(first), "second": text(second)], actor: "admin")
        #expect(try engine.audit(instance: id).filter { $0.event == LedgerEvent.stepRecorded.rawValue }.isEmpty, "nothing is due yet")

        let loop = try EventLoop()
        var commits = 0
        engine.onCommit = { _ in
            commits += 1
            let recorded = (try? engine.audit(instance: id).filter { $0.event == LedgerEvent.stepRecorded.rawValue }.count) ?? 0
            if recorded == 2 { loop.stop() }
        }
        try engine.attach(to: loop)
        // A guard: a timer that never fires must fail the test, not hang it.
        let guardTimer = try TimerHandle(loop: loop)
        try guardTimer.start(after: 5_000) { loop.stop() }
        loop.run()
        engine.onCommit = nil  // the closure holds the engine: a cycle LeakSanitizer reports
        engine.detach()
        guardTimer.close()
        try loop.close()

        let recorded = try engine.audit(instance: id).filter { $0.event == LedgerEvent.stepRecorded.rawValue }
        #expect(recorded.map(\.step) == ["one", "two"], "each step ran once, in order")
        for (entry, due) in zip(recorded, [first, second]) {
            let lateness = entry.at.timeIntervalSince(due)
            #expect(lateness >= -0.001, "\(entry.step ?? "") ran \(-lateness) s before it was due")
            #expect(lateness < 0.25, "\(entry.step ?? "") ran \(lateness) s after it was due")
            #expect(entry.fields["due"] == InstanceContextText.local(due), "the ledger keeps the due instant to the millisecond")
        }
        #expect(commits == 2, "one unit of work per timer: \(commits)")
    }
}

/// The ledger's `due` field as the engine writes it: local Shanghai time with milliseconds.
enum InstanceContextText {
    static func local(_ date: Date) -> String {
        LocalDateTime(date, in: shanghai).description.replacingOccurrences(of: "T", with: " ")
    }
}

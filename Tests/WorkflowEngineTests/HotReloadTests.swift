import Foundation
import Testing
import WorkflowEngine
import WorkflowModel

/// Reloading the workflows folder, the org chart and calendars while instances run.
@Suite struct HotReloadTests {
    private func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("reload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    private let params = ["unit": "guqiao-shequ", "meeting_day": "2026-11-20"]

    @Test func aChangedFileBecomesTheNewVersionWhileRunningInstancesKeepTheirs() throws {
        let harness = try EngineHarness()
        let workflows = try folder()
        defer { try? FileManager.default.removeItem(at: workflows) }
        let file = workflows.appendingPathComponent("notice.yaml")
        try noticeWorkflow.write(to: file, atomically: true, encoding: .utf8)
        #expect(harness.engine.loadDefinitions(directory: workflows.path).loaded == ["notice"])
        let first = try harness.engine.start(workflow: "notice", params: params, actor: "admin")

        try noticeWorkflow.replacingOccurrences(of: "title: 测试通知", with: "title: 测试通知（第二版）")
            .write(to: file, atomically: true, encoding: .utf8)
        let report = harness.engine.loadDefinitions(directory: workflows.path)
        #expect(report.loaded == ["notice"])
        let second = try harness.engine.start(workflow: "notice", params: params, actor: "admin")
        let old = try harness.engine.instance(first), new = try harness.engine.instance(second)
        #expect(old.summary.version != new.summary.version)
        #expect(old.title == "测试通知")
        #expect(new.title == "测试通知（第二版）")
        #expect(harness.engine.loadDefinitions(directory: workflows.path).unchanged == 1, "an unchanged file is not parsed again")
    }

    @Test func aBrokenFileNeverReplacesTheLastGoodVersionAndItsErrorsAreKept() throws {
        let harness = try EngineHarness()
        let workflows = try folder()
        defer { try? FileManager.default.removeItem(at: workflows) }
        let file = workflows.appendingPathComponent("notice.yaml")
        try noticeWorkflow.write(to: file, atomically: true, encoding: .utf8)
        harness.engine.loadDefinitions(directory: workflows.path)
        let good = try #require(harness.engine.definitions.first?.version)

        try noticeWorkflow.replacingOccurrences(of: "uses: record", with: "uses: recrod").write(to: file, atomically: true, encoding: .utf8)
        let report = harness.engine.loadDefinitions(directory: workflows.path)
        #expect(report.failed == [file.path])
        #expect(harness.engine.definitions.first?.version == good)
        let errors = try #require(harness.engine.loadErrors[file.path])
        #expect(errors.map(\.description) == ["\(file.path):25:11: error: unknown plugin 'recrod' in 'uses'; expected one of: escalate, record, remind"])
        _ = try harness.engine.start(workflow: "notice", params: params, actor: "admin")

        try noticeWorkflow.write(to: file, atomically: true, encoding: .utf8)
        harness.engine.loadDefinitions(directory: workflows.path)
        #expect(harness.engine.loadErrors.isEmpty, "fixing the file clears its errors")
    }

    @Test func aRemovedFileStopsNewInstancesButRunningOnesGoOn() throws {
        let harness = try EngineHarness()
        let workflows = try folder()
        defer { try? FileManager.default.removeItem(at: workflows) }
        let file = workflows.appendingPathComponent("notice.yaml")
        try noticeWorkflow.write(to: file, atomically: true, encoding: .utf8)
        harness.engine.loadDefinitions(directory: workflows.path)
        let id = try harness.engine.start(workflow: "notice", params: params, actor: "admin")

        try FileManager.default.removeItem(at: file)
        #expect(harness.engine.loadDefinitions(directory: workflows.path).removed == ["notice"])
        #expect(throws: EngineError.self) { _ = try harness.engine.start(workflow: "notice", params: self.params, actor: "admin") }
        try harness.advance(to: "2026-11-10T09:00")
        #expect(try harness.engine.inbox(user: "zhaomin", all: false).first?.instance == id)
        #expect(try harness.engine.versionsInUse()["notice"]?.values.reduce(0, +) == 1)
    }

    @Test func aCalendarChangeDerivesPendingDueTimesAgain() throws {
        // A 2027 date: the shipped calendar does not cover 2027, so weekends only (provisional).
        let workflow = """
            workflow: yearly
            title: 测试
            params:
              unit: { type: unit, title: 社区 }
              day: { type: date, title: 日 }
            steps:
              - id: prepare
                title: 准备
                at: day - 1 workday
                uses: remind
                with: { to: secretary@unit, message: 准备 }
            """
        let harness = try EngineHarness(workflows: ["yearly.yaml": workflow])
        let id = try harness.engine.start(workflow: "yearly", params: ["unit": "guqiao-shequ", "day": "2027-01-05"], actor: "admin")
        #expect(try harness.engine.instance(id).steps.first?.due == local("2027-01-04T09:00"))

        // The 2027 notice arrives: 01-04 becomes a holiday.
        let calendars = try folder()
        defer { try? FileManager.default.removeItem(at: calendars) }
        var text = try String(contentsOfFile: Checkout.etc + "/calendars/cn-mainland.yaml", encoding: .utf8)
        text += """

              2027:
                source: test notice
                holidays:
                  - name: 元旦
                    off: 2027-01-01..2027-01-04

            """
        try text.write(to: calendars.appendingPathComponent("cn-mainland.yaml"), atomically: true, encoding: .utf8)
        let loaded = CalendarLibrary.load(directory: calendars.path)
        #expect(loaded.diagnostics.isEmpty, "\(loaded.diagnostics)")
        try harness.engine.replaceSupport(EngineSupport(calendars: loaded.library, orgChart: harness.support.orgChart, timeZone: shanghai))
        #expect(try harness.engine.instance(id).steps.first?.due == local("2026-12-31T09:00"))
        #expect(harness.engine.nextWakeUp == local("2026-12-31T09:00"))
    }
}

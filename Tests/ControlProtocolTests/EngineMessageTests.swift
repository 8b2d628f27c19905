import Foundation
import Testing
import ControlProtocol

/// The engine commands' results keep stable snake_case keys, write absent values as explicit
/// nulls, and survive the trip through `JSONValue` that every response takes.
@Suite struct EngineMessageTests {
    /// The object a value encodes to, as the daemon would put it in `result`.
    private func object<T: Encodable>(_ value: T) throws -> [String: JSONValue] {
        guard case let .object(object) = try ControlCoding.value(value) else {
            Issue.record("\(T.self) did not encode to an object")
            return [:]
        }
        return object
    }

    /// Round-trips through JSON and checks the exact key set and which keys are null.
    private func check<T: Codable & Equatable>(_ value: T, keys: [String], nulls: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let encoded = try object(value)
        #expect(encoded.keys.sorted() == keys.sorted(), sourceLocation: sourceLocation)
        for key in nulls { #expect(encoded[key] == .null, "\(key) should be an explicit null", sourceLocation: sourceLocation) }
        #expect(try ControlCoding.convert(.object(encoded), to: T.self) == value, sourceLocation: sourceLocation)
        let line = try ControlCoding.encodeLine(value)
        #expect(try ControlCoding.decode(T.self, from: Array(line.dropLast())) == value, sourceLocation: sourceLocation)
    }

    static let reminder = ReminderInfo(
        id: 12, instance: 7, workflow: "election-cycle", step: "notice", title: "发布选举公告", assignees: ["li.ming", "wang.fang"],
        due: "2026-11-25T09:00:00+08:00", level: 1, message: "请张贴公告", state: "open", overdue: true)

    @Test func startResultIsTheIDAndThePastDueSteps() throws {
        try check(StartResult(id: 7, pastDueSteps: 2), keys: ["id", "past_due_steps"])
        #expect(String(decoding: try ControlCoding.encodeLine(StartResult(id: 7)), as: UTF8.self) == "{\"id\":7,\"past_due_steps\":0}\n")
        #expect(try ControlCoding.decode(StartResult.self, from: Array("{\"id\":7}".utf8)) == StartResult(id: 7), "an older daemon's answer still reads")
    }

    @Test func instanceSummaryWritesAbsentValuesAsNull() throws {
        let summary = InstanceSummary(id: 7, workflow: "election-cycle", version: "0123456789abcdef", state: "running",
                                      startedAt: "2026-11-01T09:00:00+08:00", startedBy: "admin", openReminders: 2)
        try check(summary, keys: ["id", "workflow", "version", "state", "unit", "started_at", "ended_at", "started_by", "next_due", "open_reminders"],
                  nulls: ["unit", "ended_at", "next_due"])
        var full = summary
        full.unit = "幸福社区"
        full.endedAt = "2026-12-31T17:00:00+08:00"
        full.nextDue = "2026-11-25T09:00:00+08:00"
        try check(full, keys: ["id", "workflow", "version", "state", "unit", "started_at", "ended_at", "started_by", "next_due", "open_reminders"])
        #expect(try object(full)["open_reminders"] == .number(2))
    }

    @Test func reminderInfoKeepsEveryKey() throws {
        try check(Self.reminder, keys: ["id", "instance", "workflow", "step", "title", "assignees", "due", "deadline", "level", "message",
                                        "state", "overdue", "acked_by", "acked_at", "note", "fields", "on_behalf_of", "nudged_at", "nudged_by"],
                  nulls: ["deadline", "acked_by", "acked_at", "note", "nudged_at", "nudged_by"])
        var acked = Self.reminder
        acked.state = "acked"
        acked.ackedBy = "li.ming"
        acked.ackedAt = "2026-11-26T10:15:00+08:00"
        acked.note = "已张贴"
        acked.fields = ["photos": "3"]
        acked.onBehalfOf = ["zhaomin"]
        acked.nudgedAt = "2026-11-26T09:00:00+08:00"
        acked.nudgedBy = "wanghong"
        try check(acked, keys: ["id", "instance", "workflow", "step", "title", "assignees", "due", "deadline", "level", "message",
                                "state", "overdue", "acked_by", "acked_at", "note", "fields", "on_behalf_of", "nudged_at", "nudged_by"])
        #expect(try object(acked)["fields"] == .object(["photos": .string("3")]))
    }

    @Test func instanceDetailNestsStepsAndReminders() throws {
        let step = StepDetail(id: "kickoff", title: "成立选举委员会", uses: "record", state: "done", due: "2026-11-01T09:00:00+08:00",
                              doneAt: "2026-11-01T12:12:00+08:00", lateBySeconds: 11_520)
        try check(step, keys: ["id", "title", "uses", "state", "due", "due_formula", "deadline", "done_at", "late_by_seconds",
                               "acked_by", "acked_at", "note", "failure"],
                  nulls: ["due_formula", "deadline", "acked_by", "acked_at", "note", "failure"])
        let detail = InstanceDetail(id: 7, workflow: "election-cycle", title: "换届选举", version: "abc", state: "running",
                                    params: ["election_day": "2026-12-20"], startedAt: "2026-11-01T09:00:00+08:00", startedBy: "admin",
                                    steps: [step], reminders: [Self.reminder])
        try check(detail, keys: ["id", "workflow", "title", "version", "state", "unit", "params", "started_at", "started_by",
                                 "ended_at", "cancel_reason", "steps", "reminders"],
                  nulls: ["unit", "ended_at", "cancel_reason"])
        guard case let .array(steps)? = try object(detail)["steps"] else {
            Issue.record("steps is not an array")
            return
        }
        #expect(steps.first?["due_formula"] == .null)
        #expect(steps.first?["late_by_seconds"] == .number(11_520))
    }

    @Test func updateResultListsChangesAndRederivedDueTimes() throws {
        let change = UpdateResult.ParamChange(param: "election_day", old: nil, new: "2026-12-27")
        try check(change, keys: ["param", "old", "new"], nulls: ["old"])
        let rederived = UpdateResult.Rederived(step: "vote", oldDue: "2026-12-20T08:00:00+08:00", newDue: nil)
        try check(rederived, keys: ["step", "old_due", "new_due"], nulls: ["new_due"])
        let moved = UpdateResult.Rescheduled(reminder: 3, step: "publish", oldMessage: "旧", newMessage: "新",
                                             oldAckBy: "2026-11-30T09:00:00+08:00", newAckBy: nil)
        try check(moved, keys: ["reminder", "step", "old_message", "new_message", "old_ack_by", "new_ack_by"], nulls: ["new_ack_by"])
        try check(UpdateResult(id: 7, changed: [change], rederived: [rederived], reminders: [moved]),
                  keys: ["id", "changed", "rederived", "reminders"])
    }

    @Test func cancelResultCountsWhatStopped() throws {
        try check(CancelResult(id: 7, cancelledReminders: 2, cancelledSteps: 3), keys: ["id", "cancelled_reminders", "cancelled_steps"])
    }

    @Test func auditResultWritesVerificationAsNullWhenNotAsked() throws {
        let row = LedgerRow(seq: 1, at: "2026-11-01T09:00:00+08:00", actor: "huayingd", event: "start", text: "started",
                            hash: String(repeating: "ab", count: 32))
        try check(row, keys: ["seq", "at", "actor", "instance", "step", "event", "text", "fields", "hash"], nulls: ["instance", "step"])
        try check(AuditResult(rows: [row]), keys: ["rows", "verification"], nulls: ["verification"])
        let failed = LedgerVerification(ok: false, rowsChecked: 40, firstBadSeq: 17, reason: "hash mismatch")
        try check(failed, keys: ["ok", "rows_checked", "first_bad_seq", "reason"])
        try check(LedgerVerification(ok: true, rowsChecked: 40), keys: ["ok", "rows_checked", "first_bad_seq", "reason"],
                  nulls: ["first_bad_seq", "reason"])
        try check(AuditResult(rows: [row], verification: failed), keys: ["rows", "verification"])
    }

    @Test func clockResultUsesSnakeCase() throws {
        try check(ClockResult(mode: "simulated", now: "2026-11-04T09:00:00+08:00", stepsRun: 3), keys: ["mode", "now", "steps_run"])
    }

    @Test func missingOptionalKeysDecodeAsNil() throws {
        let line = #"{"seq":3,"at":"2026-11-01T09:00:00+08:00","actor":"li.ming","event":"ack","text":"ok","fields":{},"hash":"00"}"#
        let row = try ControlCoding.decode(LedgerRow.self, from: Array(line.utf8))
        #expect(row.instance == nil && row.step == nil)
    }

    @Test func integersFromTheDaemonDecodeThroughJSONValue() throws {
        // Every result passes through JSONValue, whose numbers are Doubles.
        let value: JSONValue = .object(["id": .number(7), "cancelled_reminders": .number(0), "cancelled_steps": .number(4)])
        #expect(try ControlCoding.convert(value, to: CancelResult.self) == CancelResult(id: 7, cancelledReminders: 0, cancelledSteps: 4))
    }

    @Test func clockDurationsAcceptUnitsWrittenTogether() {
        #expect(ClockDuration.seconds(in: "3d") == 3 * 86_400)
        #expect(ClockDuration.seconds(in: "2h") == 7200)
        #expect(ClockDuration.seconds(in: "90m") == 5400)
        #expect(ClockDuration.seconds(in: "1w") == 604_800)
        #expect(ClockDuration.seconds(in: "1d12h") == 129_600)
        #expect(ClockDuration.seconds(in: "1w2d3h4m") == 604_800 + 2 * 86_400 + 3 * 3600 + 240)
        for bad in ["", "3", "d", "3x", "3 d", "-1d", "1.5d", "0d", "3D", "１d", "9999999999d", "1d 2h"] {
            #expect(ClockDuration.seconds(in: bad) == nil, "\(bad) should be refused")
        }
    }
}

/// `@NullEncoded` writes a present value as itself (missing keys: `missingOptionalKeysDecodeAsNil`).
@Suite struct NullEncodedTests {
    @Test func aPresentValueRoundTrips() throws {
        let row = LedgerRow(seq: 3, at: "t", actor: "a", instance: 7, step: nil, event: "e", text: "x", fields: [:], hash: "h")
        let data = try JSONEncoder().encode(row)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""instance":7"#))
        #expect(text.contains(#""step":null"#))
        #expect(try JSONDecoder().decode(LedgerRow.self, from: data) == row)
    }
}

/// The vocabulary is defined once, and the docs name all of it.
@Suite struct VocabularyDocumentationTests {
    static let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs")

    @Test func everyRefusalCodeIsInTheCLIReference() throws {
        let cli = try String(contentsOf: Self.docs.appendingPathComponent("cli.md"), encoding: .utf8)
        let missing = RefusalCode.allCases.map(\.rawValue).filter { !cli.contains("`\($0)`") }
        #expect(missing.isEmpty, "docs/cli.md does not list: \(missing)")
    }

    @Test func everyLedgerEventIsInTheEngineReference() throws {
        let engine = try String(contentsOf: Self.docs.appendingPathComponent("engine.md"), encoding: .utf8)
        let missing = LedgerEvent.allCases.map(\.rawValue).filter { !engine.contains("`\($0)`") }
        #expect(missing.isEmpty, "docs/engine.md does not list: \(missing)")
    }
}

import Escalate
import Foundation
import Record
import Remind
import SQLiteStore
import Testing
@testable import WorkflowEngine
#if canImport(Glibc)
import Glibc
#endif

/// What a tamperer with write access to the database (but not to the key) can do, done the
/// way they would: drop the triggers, change rows, and compute the hashes again.
enum Tamper {
    static func dropTriggers(_ db: Database) throws {
        try db.execute("DROP TRIGGER IF EXISTS ledger_no_update; DROP TRIGGER IF EXISTS ledger_no_delete")
    }

    static func deleteLast(_ count: Int, _ db: Database) throws {
        try dropTriggers(db)
        try db.execute("DELETE FROM ledger WHERE seq > (SELECT max(seq) FROM ledger) - ?", [.integer(Int64(count))])
    }

    /// Recomputes every row's prev_hash and hash (plain sha256) from `seq` on.
    static func rechain(from seq: Int64, _ db: Database) throws {
        try dropTriggers(db)
        var previous = try db.queryOne("SELECT hash FROM ledger WHERE seq = ?", [.integer(seq - 1)])?.text("hash") ?? Ledger.genesis
        for row in try db.query("SELECT * FROM ledger WHERE seq >= ? ORDER BY seq", [.integer(seq)]) {
            let hash = Ledger.hash(prev: previous, seq: try row.int("seq"), at: try row.int("at"), actor: try row.text("actor"),
                                   instance: try row.optionalInt("instance"), step: try row.optionalText("step"),
                                   event: try row.text("event"), text: try row.text("text"), fieldsJSON: try row.text("fields"))
            try db.execute("UPDATE ledger SET prev_hash = ?, hash = ? WHERE seq = ?", [.text(previous), .text(hash), .integer(try row.int("seq"))])
            previous = hash
        }
    }

    /// Appends a row with a correct plain sha256 hash.
    static func append(_ db: Database, at: Int64, actor: String, instance: Int64?, step: String?, event: String, text: String,
                       fields: [String: String]) throws -> Int64 {
        let head = try #require(try db.queryOne("SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1"))
        let seq = try head.int("seq") + 1, previous = try head.text("hash")
        let json = Ledger.json(fields)
        let hash = Ledger.hash(prev: previous, seq: seq, at: at, actor: actor, instance: instance, step: step, event: event,
                               text: text, fieldsJSON: json)
        try db.execute("INSERT INTO ledger (seq, at, actor, instance, step, event, text, fields, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [.integer(seq), .integer(at), .text(actor), instance.map { .integer($0) } ?? .null, step.map { .text($0) } ?? .null,
                        .text(event), .text(text), .text(json), .text(previous), .text(hash)])
        return seq
    }
}

/// A clock that can be set anywhere, backwards too, as a wall clock stepped by NTP can.
final class SettableClock: EngineClock {
    var now: Date
    var mode: String { "real" }
    init(_ now: Date) { self.now = now }
}

@Suite struct LedgerAnchorTests {
    private func harnessWithHistory() throws -> EngineHarness {
        let harness = try EngineHarness(workflows: ["notice.yaml": noticeWorkflow])
        for unit in ["guqiao-shequ", "xijie"] {
            _ = try harness.engine.start(workflow: "notice", params: ["unit": unit, "meeting_day": "2026-11-20"], actor: "admin")
        }
        try harness.advance(to: "2026-11-14T09:00")
        return harness
    }

    @Test(arguments: [1, 5, Int.max])
    func deletingTheLastRowsBehindTheEnginesBackNamesTheMissingTail(count: Int) throws {
        let harness = try harnessWithHistory()
        let rows = Int64(try harness.engine.audit().count)
        let deleted = Int64(min(count, Int(rows)))
        try Tamper.deleteLast(Int(deleted), harness.db)

        let verification = try harness.engine.verifyLedger()
        #expect(!verification.ok)
        let missing = deleted == 1 ? "row \(rows) is missing" : "rows \(rows - deleted + 1)–\(rows) are missing"
        #expect(verification.reason?.contains(missing) == true, "\(verification.reason ?? "-")")
        #expect(verification.firstBadSeq == rows - deleted + 1)
    }

    @Test func reChainingAfterAnEditDoesNotMatchTheCommittedHead() throws {
        let harness = try harnessWithHistory()
        try Tamper.dropTriggers(harness.db)
        try harness.db.execute("UPDATE ledger SET text = '已确认（改）' WHERE seq = 3")
        try Tamper.rechain(from: 3, harness.db)

        let verification = try harness.engine.verifyLedger()
        #expect(!verification.ok)
        #expect(verification.reason?.contains("re-chained or replaced") == true, "\(verification.reason ?? "-")")
    }

    @Test func aKeyedLedgerCatchesAForgedAcknowledgementWithACorrectSha256Hash() throws {
        let harness = try EngineHarness(workflows: ["notice.yaml": noticeWorkflow])
        harness.engine.useLedgerKey(LedgerKey(bytes: Array(repeating: 7, count: 32)))
        try harness.engine.keyLedger(actor: "test")
        let id = try harness.engine.start(workflow: "notice", params: ["unit": "guqiao-shequ", "meeting_day": "2026-11-20"], actor: "admin")
        try harness.advance(to: "2026-11-10T12:00")
        #expect(try harness.engine.verifyLedger().ok)

        // The forger acknowledges the open reminder in the table and appends a matching row.
        let reminder = try #require(try harness.db.queryOne("SELECT id, step FROM reminder WHERE state = 'open'"))
        let reminderID = try reminder.int("id")
        try harness.db.execute("UPDATE reminder SET state = 'acked', acked_by = 'zhaomin', acked_at = 0 WHERE id = ?", [.integer(reminderID)])
        let head = harness.engine.ledgerHead
        let forged = try Tamper.append(harness.db, at: head.at, actor: "zhaomin", instance: id, step: try reminder.text("step"),
                                       event: "reminder.acknowledged", text: "已确认", fields: ["reminder": "\(reminderID)"])

        let verification = try harness.engine.verifyLedger()
        #expect(!verification.ok)
        #expect(verification.firstBadSeq == forged)
        #expect(verification.reason?.contains("plain sha256 hash where the keyed ledger needs its HMAC") == true, "\(verification.reason ?? "-")")
    }

    @Test func aKeyedLedgerCatchesReChainingAfterAnEdit() throws {
        let harness = try EngineHarness(workflows: ["notice.yaml": noticeWorkflow])
        harness.engine.useLedgerKey(LedgerKey(bytes: Array(repeating: 9, count: 32)))
        try harness.engine.keyLedger(actor: "test")
        _ = try harness.engine.start(workflow: "notice", params: ["unit": "guqiao-shequ", "meeting_day": "2026-11-20"], actor: "admin")
        try harness.advance(to: "2026-11-14T09:00")
        try Tamper.dropTriggers(harness.db)
        try harness.db.execute("UPDATE ledger SET text = '改' WHERE seq = 3")
        try Tamper.rechain(from: 3, harness.db)
        // Even a forger who also rewrites the committed head (restarting the engine re-reads it) fails.
        try harness.restart()
        harness.engine.useLedgerKey(LedgerKey(bytes: Array(repeating: 9, count: 32)))
        let verification = try harness.engine.verifyLedger()
        #expect(!verification.ok)
        #expect(verification.firstBadSeq == 3)
        #expect(verification.reason?.contains("re-chained without the key") == true, "\(verification.reason ?? "-")")
    }

    @Test func aWrongKeyIsToldApartFromTampering() throws {
        let harness = try EngineHarness(workflows: ["notice.yaml": noticeWorkflow])
        harness.engine.useLedgerKey(LedgerKey(bytes: Array(repeating: 1, count: 32)))
        try harness.engine.keyLedger(actor: "test")
        harness.engine.useLedgerKey(LedgerKey(bytes: Array(repeating: 2, count: 32)))
        let verification = try harness.engine.verifyLedger()
        #expect(verification.reason?.contains("the configured key is") == true, "\(verification.reason ?? "-")")
    }

    @Test func aWallClockThatGoesBackwardsNeverWritesAnEarlierRow() throws {
        let harness = try EngineHarness(workflows: ["notice.yaml": noticeWorkflow])
        let clock = SettableClock(local("2026-11-02T09:00"))
        let log = LogCapture()
        let engine = try WorkflowEngine(db: harness.db, clock: clock, support: harness.support, plugins: [RecordPlugin(), RemindPlugin(), EscalatePlugin()], logger: log.logger)
        engine.useLedgerKey(nil)  // as huayingd does: the ledger logs through the engine's logger
        try engine.registerDefinition(path: harness.directory.appendingPathComponent("notice.yaml").path, text: noticeWorkflow)
        let id = try engine.start(workflow: "notice", params: ["unit": "guqiao-shequ", "meeting_day": "2026-11-20"], actor: "admin")
        clock.now = local("2026-11-02T08:00")  // an hour back
        _ = try engine.update(instance: id, params: ["meeting_day": "2026-11-21"], actor: "admin")
        _ = try engine.update(instance: id, params: ["meeting_day": "2026-11-22"], actor: "admin")

        // Said once for the episode, with both times.
        let behind = log.records.filter { $0.message.hasPrefix("the clock is earlier than the last ledger row") }
        #expect(behind.count == 1 && behind.first?.level == .warning, "\(log.records.map(\.message))")
        #expect(behind.first?.metadata["clock"]?.hasPrefix("2026-11-02T00:00:00") == true, "\(behind.first?.metadata ?? [:])")
        #expect(behind.first?.metadata["ledger.at"]?.hasPrefix("2026-11-02T01:00:00") == true, "\(behind.first?.metadata ?? [:])")

        let rows = try engine.audit()
        let started = try #require(rows.first { $0.event == "instance.started" })
        let updated = try #require(rows.first { $0.event == "instance.updated" })
        #expect(updated.at == started.at)
        #expect(updated.fields["clock.reading"]?.hasPrefix("2026-11-02T00:00:00") == true, "\(updated.fields)")
        #expect(try engine.verifyLedger().ok)
    }

    @Test func verifyNamesARowEarlierThanTheOneBefore() throws {
        let harness = try harnessWithHistory()
        try Tamper.dropTriggers(harness.db)
        // Backdate an acknowledgement-like row and re-chain so every hash is right.
        let last = try #require(try harness.engine.audit().last)
        try harness.db.execute("UPDATE ledger SET at = at - 86400000 WHERE seq = ?", [.integer(last.seq)])
        try Tamper.rechain(from: last.seq, harness.db)
        let verification = try harness.engine.verifyLedger()
        #expect(!verification.ok)
        #expect(verification.firstBadSeq == last.seq)
        #expect(verification.problems.first?.contains("time never goes backwards") == true, "\(verification.problems)")
    }

    @Test func verifyCrossChecksInstancesAndAcknowledgedRemindersAgainstTheLedger() throws {
        let harness = try harnessWithHistory()
        let row = try #require(try harness.db.queryOne("""
            SELECT r.id AS id, r.instance AS instance, rr.user AS user FROM reminder r JOIN reminder_recipient rr ON rr.reminder = r.id
            WHERE r.state = 'open' ORDER BY r.id LIMIT 1
            """))
        let open = (id: try row.int("id"), instance: try row.int("instance"))
        let user = try row.text("user")
        _ = try harness.engine.acknowledge(reminder: open.id, user: user, actor: user, note: nil, fields: [:])
        #expect(try harness.engine.verifyLedger().ok)

        try Tamper.dropTriggers(harness.db)
        try harness.db.execute("DELETE FROM ledger WHERE event IN ('instance.started', 'reminder.acknowledged') AND instance = ?", [.integer(open.instance)])
        try Tamper.rechain(from: 1, harness.db)
        let problems = try harness.engine.verifyLedger().problems
        #expect(problems.contains("instance \(open.instance) has no instance.started row in the ledger"), "\(problems)")
        #expect(problems.contains { $0.hasPrefix("reminder \(open.id) of instance \(open.instance) is acknowledged, but the ledger has no") }, "\(problems)")
    }

    @Test func startUpVerificationChecksOnlyTheRowsAfterTheCheckpoint() throws {
        let harness = try harnessWithHistory()
        let checkpoint = harness.engine.ledgerHead
        _ = try harness.engine.start(workflow: "notice", params: ["unit": "huangjue", "meeting_day": "2026-11-28"], actor: "admin")
        let added = harness.engine.ledgerHead.seq - checkpoint.seq
        let result = try harness.engine.verifyLedger(from: checkpoint)
        #expect(result.ok)
        #expect(result.rowsChecked == Int(added))

        // A checkpoint row that was rewritten is named.
        let forged = LedgerHead(seq: checkpoint.seq, hash: String(repeating: "a", count: 64), at: checkpoint.at)
        #expect(try harness.engine.verifyLedger(from: forged).reason?.contains("checkpoint does not hold") == true)
    }

    @Test func theAnchorFileRoundTripsAndIsReplacedAtomically() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("anchor-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("ledger-head.json").path
        #expect(try LedgerAnchor.read(path: path) == nil)
        let anchor = LedgerAnchor(head: LedgerHead(seq: 60, hash: String(repeating: "b", count: 64), at: 1_700_000_000_000),
                                  checkpoint: .genesis, clockMode: "simulated", clockHighWater: 1_700_000_000_001)
        try anchor.write(path: path)
        try anchor.write(path: path)
        #expect(try LedgerAnchor.read(path: path) == anchor)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["ledger-head.json"])
        try "{not json".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: LedgerAnchor.FileError.self) { try LedgerAnchor.read(path: path) }
    }

    @Test func aKeyFileReadableByOthersOrTooShortIsRefused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("key-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("ledger.key").path
        try Data(repeating: 42, count: 32).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o644)
        #expect { try LedgerKey.load(path: path) } throws: { "\($0)".contains("chmod 0600 \(path)") }
        chmod(path, 0o600)
        #expect(try LedgerKey.load(path: path).id.count == 16)
        try Data(repeating: 42, count: 8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o600)
        #expect { try LedgerKey.load(path: path) } throws: { "\($0)".contains("at least 32") }
    }
}

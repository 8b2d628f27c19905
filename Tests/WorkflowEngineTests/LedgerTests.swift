import Foundation
import Testing
@testable import WorkflowEngine

@Suite struct LedgerTests {
    private func harnessWithHistory() throws -> EngineHarness {
        let harness = try EngineHarness(workflows: ["notice.yaml": noticeWorkflow])
        _ = try harness.engine.start(workflow: "notice", params: ["unit": "guqiao-shequ", "meeting_day": "2026-11-20"], actor: "admin")
        try harness.advance(to: "2026-11-14T09:00")
        return harness
    }

    @Test func anUntouchedLedgerVerifies() throws {
        let harness = try harnessWithHistory()
        let verification = try harness.engine.verifyLedger()
        #expect(verification.ok)
        #expect(verification.rowsChecked == (try harness.engine.audit().count))
        #expect(verification.rowsChecked >= 6)
    }

    @Test func eachRowChainsToThePrevious() throws {
        let harness = try harnessWithHistory()
        let rows = try harness.engine.audit()
        #expect(rows.first?.prevHash == String(repeating: "0", count: 64))
        for (previous, row) in zip(rows, rows.dropFirst()) {
            #expect(row.prevHash == previous.hash)
            #expect(row.seq == previous.seq + 1)
        }
    }

    @Test func theDaemonCannotUpdateOrDeleteLedgerRows() throws {
        let harness = try harnessWithHistory()
        #expect(throws: (any Error).self) { try harness.db.execute("UPDATE ledger SET text = 'x' WHERE seq = 1") }
        #expect(throws: (any Error).self) { try harness.db.execute("DELETE FROM ledger WHERE seq = 1") }
    }

    @Test func anEditedRowIsNamed() throws {
        let harness = try harnessWithHistory()
        try harness.db.execute("DROP TRIGGER ledger_no_update")
        try harness.db.execute("UPDATE ledger SET text = '通知已发出（篡改）' WHERE seq = 3")
        let verification = try harness.engine.verifyLedger()
        #expect(!verification.ok)
        #expect(verification.firstBadSeq == 3)
        #expect(verification.rowsChecked == 2)
        #expect(verification.reason == "content does not match its hash (the row was edited)")
    }

    @Test func aDeletedRowIsNamed() throws {
        let harness = try harnessWithHistory()
        try harness.db.execute("DROP TRIGGER ledger_no_delete")
        try harness.db.execute("DELETE FROM ledger WHERE seq = 2")
        let verification = try harness.engine.verifyLedger()
        #expect(!verification.ok)
        #expect(verification.firstBadSeq == 3)
        #expect(verification.reason == "row 2 is missing (the next row is 3)")
    }

    @Test func fieldsJSONIsCanonicalAndRoundTrips() throws {
        let fields = ["b": "引号\"与\\反斜杠", "a": "换行\n制表\t回车\r", "c": "\u{01}控制\u{1f}", "d": "😀 {{x}} /"]
        let json = Ledger.json(fields)
        #expect(json.hasPrefix("{\"a\":"), "keys sorted")
        #expect(!json.contains("\n"), "one line")
        #expect(try JSONDecoder().decode([String: String].self, from: Data(json.utf8)) == fields)
        #expect(Ledger.fields(json) == fields)
        #expect(Ledger.json([:]) == "{}")
        #expect(Ledger.json(fields) == json, "the same map always serialises the same way")
    }

    @Test func theHashCoversEveryField() {
        let base = Ledger.hash(prev: Ledger.genesis, seq: 1, at: 1000, actor: "a", instance: 1, step: "s", event: "e", text: "t", fieldsJSON: "{}")
        #expect(base.count == 64)
        #expect(base != Ledger.hash(prev: Ledger.genesis, seq: 1, at: 1001, actor: "a", instance: 1, step: "s", event: "e", text: "t", fieldsJSON: "{}"))
        #expect(base != Ledger.hash(prev: Ledger.genesis, seq: 1, at: 1000, actor: "a", instance: nil, step: "s", event: "e", text: "t", fieldsJSON: "{}"))
        // Length prefixes keep "ab"+"c" apart from "a"+"bc".
        #expect(Ledger.hash(prev: "", seq: 1, at: 1, actor: "ab", instance: nil, step: "c", event: "e", text: "t", fieldsJSON: "{}")
                != Ledger.hash(prev: "", seq: 1, at: 1, actor: "a", instance: nil, step: "bc", event: "e", text: "t", fieldsJSON: "{}"))
    }
}
